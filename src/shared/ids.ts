/**
 * Request ids: UUIDs like Lambda's, but version 7 (RFC 9562): time-ordered, so the indexes
 * that hold them (logs by request, queued events) grow at one end instead of taking a write in
 * a random page per id. Clients treat request ids as opaque strings; nothing reads the time
 * back out of them.
 */
import { v7 } from "uuid";

export function newRequestId(): string {
  return v7();
}
