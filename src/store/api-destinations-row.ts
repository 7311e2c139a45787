/**
 * Connections', API destinations' and HTTP deliveries' rows as both stores keep them (same
 * columns) and the records they read as. A connection's auth (secrets included) and a
 * delivery's spec are JSON text; every other field is a column of its own, an unset one NULL,
 * read back as undefined.
 */
import type {
  ApiDestinationRecord,
  ConnectionAuth,
  ConnectionAuthorizationType,
  ConnectionRecord,
  ConnectionState,
  HttpDeliveryRecord,
  HttpDeliverySpec,
  HttpMethod,
} from "../services/events/model.js";

export interface ConnectionRow {
  name: string;
  uuid: string;
  description: string | null;
  authorization_type: ConnectionAuthorizationType;
  /** The `ConnectionAuth`, JSON. */
  auth: string;
  state: ConnectionState;
  state_reason: string | null;
  created_at: number;
  modified_at: number;
  authorized_at: number | null;
}

export const CONNECTION_COLUMNS = [
  "name",
  "uuid",
  "description",
  "authorization_type",
  "auth",
  "state",
  "state_reason",
  "created_at",
  "modified_at",
  "authorized_at",
] as const satisfies readonly (keyof ConnectionRow)[];

/** What an update of a connection writes: all but its name. */
export const CONNECTION_UPDATED_COLUMNS = CONNECTION_COLUMNS.filter((c) => c !== "name");

export interface ApiDestinationRow {
  name: string;
  uuid: string;
  description: string | null;
  connection_name: string;
  endpoint: string;
  http_method: HttpMethod;
  rate_limit_per_second: number | null;
  state: ApiDestinationRecord["state"];
  created_at: number;
  modified_at: number;
}

export const API_DESTINATION_COLUMNS = [
  "name",
  "uuid",
  "description",
  "connection_name",
  "endpoint",
  "http_method",
  "rate_limit_per_second",
  "state",
  "created_at",
  "modified_at",
] as const satisfies readonly (keyof ApiDestinationRow)[];

/** What an update of an API destination writes: all but its name. */
export const API_DESTINATION_UPDATED_COLUMNS = API_DESTINATION_COLUMNS.filter((c) => c !== "name");

export interface HttpDeliveryRow {
  id: string;
  destination_name: string;
  created_at: number;
  next_at: number;
  attempts: number;
  /** The `HttpDeliverySpec`, JSON. */
  spec: string;
  payload: string;
  last_error: string | null;
}

export const HTTP_DELIVERY_COLUMNS = [
  "id",
  "destination_name",
  "created_at",
  "next_at",
  "attempts",
  "spec",
  "payload",
  "last_error",
] as const satisfies readonly (keyof HttpDeliveryRow)[];

export function connectionRow(c: ConnectionRecord): ConnectionRow {
  return {
    name: c.name,
    uuid: c.uuid,
    description: c.description ?? null,
    authorization_type: c.authorizationType,
    auth: JSON.stringify(c.auth),
    state: c.state,
    state_reason: c.stateReason ?? null,
    created_at: c.createdAt,
    modified_at: c.modifiedAt,
    authorized_at: c.authorizedAt ?? null,
  };
}

/**
 * Every field present, unset ones as undefined: the same object from either store. The auth
 * reads back as JSON makes it: its optional parts (`basic`, `apiKey`, `oauth`) present only if set.
 */
export function toConnection(r: ConnectionRow): ConnectionRecord {
  return {
    name: r.name,
    uuid: r.uuid,
    description: r.description ?? undefined,
    authorizationType: r.authorization_type,
    auth: JSON.parse(r.auth) as ConnectionAuth,
    state: r.state,
    stateReason: r.state_reason ?? undefined,
    createdAt: r.created_at,
    modifiedAt: r.modified_at,
    authorizedAt: r.authorized_at ?? undefined,
  };
}

export function apiDestinationRow(d: ApiDestinationRecord): ApiDestinationRow {
  return {
    name: d.name,
    uuid: d.uuid,
    description: d.description ?? null,
    connection_name: d.connectionName,
    endpoint: d.endpoint,
    http_method: d.httpMethod,
    rate_limit_per_second: d.rateLimitPerSecond ?? null,
    state: d.state,
    created_at: d.createdAt,
    modified_at: d.modifiedAt,
  };
}

export function toApiDestination(r: ApiDestinationRow): ApiDestinationRecord {
  return {
    name: r.name,
    uuid: r.uuid,
    description: r.description ?? undefined,
    connectionName: r.connection_name,
    endpoint: r.endpoint,
    httpMethod: r.http_method,
    rateLimitPerSecond: r.rate_limit_per_second ?? undefined,
    state: r.state,
    createdAt: r.created_at,
    modifiedAt: r.modified_at,
  };
}

export function httpDeliveryRow(d: HttpDeliveryRecord): HttpDeliveryRow {
  return {
    id: d.id,
    destination_name: d.destinationName,
    created_at: d.createdAt,
    next_at: d.nextAt,
    attempts: d.attempts,
    spec: JSON.stringify(d.spec),
    payload: d.payload,
    last_error: d.lastError ?? null,
  };
}

export function toHttpDelivery(r: HttpDeliveryRow): HttpDeliveryRecord {
  return {
    id: r.id,
    destinationName: r.destination_name,
    createdAt: r.created_at,
    nextAt: r.next_at,
    attempts: r.attempts,
    spec: toSpec(r.spec),
    payload: r.payload,
    lastError: r.last_error ?? undefined,
  };
}

/** The spec field by field: `deadLetterArn`, which JSON drops when unset, is back as undefined. */
function toSpec(json: string): HttpDeliverySpec {
  const s = JSON.parse(json) as HttpDeliverySpec;
  return {
    ruleArn: s.ruleArn,
    targetArn: s.targetArn,
    targetId: s.targetId,
    pathValues: s.pathValues,
    headers: s.headers,
    query: s.query,
    deadLetterArn: s.deadLetterArn ?? undefined,
    maxRetries: s.maxRetries,
    expiresAt: s.expiresAt,
  };
}

/**
 * Claimed rows (each with the `next_at` it was due at) as records, earliest due first, then by
 * id in byte order (as both stores sort): each with `nextAt` now `leaseUntil`, as stored.
 */
export function claimed(rows: readonly HttpDeliveryRow[], leaseUntil: number): HttpDeliveryRecord[] {
  return [...rows]
    .sort((a, b) => a.next_at - b.next_at || Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)))
    .map((r) => ({ ...toHttpDelivery(r), nextAt: leaseUntil }));
}
