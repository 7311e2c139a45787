/**
 * Ids of HTTP APIs and their parts, in API Gateway's shapes: an API's id is its host's first
 * label (10 lower-case letters and digits); a route's, integration's, authorizer's or
 * deployment's is 7 of them.
 */
import { randomInt } from "node:crypto";

const API_ID_LENGTH = 10;
const PART_ID_LENGTH = 7;
const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

function randomId(length: number): string {
  let id = "";
  for (let i = 0; i < length; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/** An API's id that `taken` does not have. */
export function newApiId(taken: (id: string) => boolean): string {
  for (;;) {
    const id = randomId(API_ID_LENGTH);
    if (!taken(id)) return id;
  }
}

/** A part's id, unique among `taken`. */
export function partId(taken: Iterable<string>): string {
  const used = new Set(taken);
  for (;;) {
    const id = randomId(PART_ID_LENGTH);
    if (!used.has(id)) return id;
  }
}
