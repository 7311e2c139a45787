/**
 * Connections and API destinations with EventBridge's contract: a connection holds how requests
 * are authorized (BASIC, an API key header, or Standard Webhooks signatures: an API key named
 * `webhook-signature` whose value is a `whsec_` secret), an API destination an HTTP endpoint, a
 * method and a rate, reached through a connection. A rule's target whose ARN is an API
 * destination's gets each matching event as an HTTP request (`http-delivery.ts`).
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../../shared/clock.js";
import { authorizationTypeOf, readAuth, renderAuth } from "./connection-auth.js";
import { exists, notFound, validation } from "./errors.js";
import type { ApiDestinationRecord, ConnectionRecord, HttpMethod, TargetRecord } from "./model.js";
import { apiDestinationArn, checkName, connectionArn, type EventsAccount, namedByArn } from "./names.js";
import type { ApiDestinationsRepo } from "./repo.js";
import { limitOf, optionalString, paged, stringOr, tokenOf } from "./shapes.js";

type Input = Readonly<Record<string, unknown>>;
type Output = Record<string, unknown>;

const METHODS: readonly HttpMethod[] = ["POST", "GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"];
/** EventBridge's default and what Nimbus allows at most: requests per second per destination. */
export const DEFAULT_RATE_LIMIT = 300;
const MAX_RATE_LIMIT = 10_000;

export interface ApiDestinationsDeps {
  readonly repo: ApiDestinationsRepo;
  readonly clock: Clock;
  readonly account: EventsAccount;
  /** Deliveries were queued (`queue`): the deliverer wakes. */
  readonly queued: () => void;
  /** Publishes one of the platform's own events on the default bus (`EventBus.publish`). */
  readonly publish: (
    detailType: string,
    detail: Record<string, unknown>,
    resources: string[],
  ) => Promise<void>;
}

/** The source of the events connections publish about themselves. */
export const CONNECTION_EVENTS = "nimbus.events";

export class ApiDestinations {
  readonly #o: ApiDestinationsDeps;

  constructor(deps: ApiDestinationsDeps) {
    this.#o = deps;
  }

  // ── Connections ────────────────────────────────────────────────────────────
  async createConnection(input: Input): Promise<Output> {
    const name = checkName("connection", input.Name);
    refusePrivate(input);
    const type = authorizationTypeOf(input.AuthorizationType);
    const now = this.#o.clock.now();
    const c: ConnectionRecord = {
      name,
      uuid: randomUUID(),
      description: optionalString(input.Description, "Description", 512),
      authorizationType: type,
      auth: readAuth(type, input.AuthParameters, undefined),
      state: "AUTHORIZED",
      stateReason: undefined,
      createdAt: now,
      modifiedAt: now,
      authorizedAt: now,
    };
    if (!(await this.#o.repo.createConnection(c))) throw exists(`Connection ${name}`);
    return this.#connectionState(c);
  }

  async describeConnection(input: Input): Promise<Output> {
    const c = await this.#connection(input.Name);
    return {
      ...this.#connectionSummary(c),
      ...(c.description ? { Description: c.description } : {}),
      SecretArn: `arn:aws:secretsmanager:${this.#o.account.region}:${this.#o.account.accountId}:secret:events!connection/${c.name}/${c.uuid}`,
      AuthParameters: renderAuth(c.auth),
    };
  }

  async listConnections(input: Input): Promise<Output> {
    const limit = limitOf(input.Limit);
    const state = stringOr(input.ConnectionState);
    const page = await this.#o.repo.listConnections({
      prefix: stringOr(input.NamePrefix),
      ...(state ? { state } : {}),
      after: tokenOf(input.NextToken),
      limit: limit + 1,
    });
    return paged(
      page,
      limit,
      (c) => c.name,
      "Connections",
      (c) => this.#connectionSummary(c),
    );
  }

  async updateConnection(input: Input): Promise<Output> {
    const before = await this.#connection(input.Name);
    refusePrivate(input);
    const type =
      input.AuthorizationType === undefined
        ? before.authorizationType
        : authorizationTypeOf(input.AuthorizationType);
    if (type !== before.authorizationType && input.AuthParameters === undefined)
      throw validation(`AuthParameters for ${type} are required to change a connection's AuthorizationType.`);
    const now = this.#o.clock.now();
    const touchesAuth = input.AuthParameters !== undefined || type !== before.authorizationType;
    const c: ConnectionRecord = {
      ...before,
      description:
        input.Description === undefined
          ? before.description
          : optionalString(input.Description, "Description", 512),
      authorizationType: type,
      auth: touchesAuth
        ? readAuth(type, input.AuthParameters, { type: before.authorizationType, auth: before.auth })
        : before.auth,
      // New credentials authorize a connection that was deauthorized.
      ...(touchesAuth ? { state: "AUTHORIZED" as const, stateReason: undefined, authorizedAt: now } : {}),
      modifiedAt: now,
    };
    if (!(await this.#o.repo.updateConnection(c))) throw notFound(`Connection ${c.name}`);
    return this.#connectionState(c);
  }

  async deauthorizeConnection(input: Input): Promise<Output> {
    const before = await this.#connection(input.Name);
    const c: ConnectionRecord = {
      ...before,
      state: "DEAUTHORIZED",
      stateReason: "Deauthorized by DeauthorizeConnection: update its AuthParameters to authorize it again.",
      modifiedAt: this.#o.clock.now(),
    };
    if (!(await this.#o.repo.updateConnection(c))) throw notFound(`Connection ${c.name}`);
    await this.deauthorized(c);
    return this.#connectionState(c);
  }

  /**
   * Says on the default bus that a connection was deauthorized (by DeauthorizeConnection, or by
   * an authorization endpoint refusing its client), so a rule can alert someone.
   */
  async deauthorized(c: ConnectionRecord): Promise<void> {
    const arn = connectionArn(this.#o.account, c.name, c.uuid);
    const detail = { connectionName: c.name, connectionArn: arn, stateReason: c.stateReason };
    await this.#o.publish("Connection Deauthorized", detail, [arn]);
  }

  async deleteConnection(input: Input): Promise<Output> {
    const c = await this.#connection(input.Name);
    const users = await this.#o.repo.listApiDestinations({ connectionName: c.name, limit: 5 });
    if (users.length > 0)
      throw validation(
        `Connection ${c.name} is used by API destinations (${users.map((d) => d.name).join(", ")}): delete them or point them at another connection first.`,
      );
    await this.#o.repo.deleteConnection(c.name);
    return { ...this.#connectionState(c), ConnectionState: "DELETING" };
  }

  // ── API destinations ───────────────────────────────────────────────────────
  async createApiDestination(input: Input): Promise<Output> {
    const name = checkName("api-destination", input.Name);
    const now = this.#o.clock.now();
    const d: ApiDestinationRecord = {
      name,
      uuid: randomUUID(),
      description: optionalString(input.Description, "Description", 512),
      connectionName: await this.#connectionOf(input.ConnectionArn),
      endpoint: endpointOf(input.InvocationEndpoint),
      httpMethod: methodOf(input.HttpMethod),
      rateLimitPerSecond: rateOf(input.InvocationRateLimitPerSecond),
      state: "ACTIVE",
      createdAt: now,
      modifiedAt: now,
    };
    if (!(await this.#o.repo.createApiDestination(d))) throw exists(`ApiDestination ${name}`);
    return this.#destinationState(d);
  }

  async describeApiDestination(input: Input): Promise<Output> {
    const d = await this.#destination(input.Name);
    return this.#destinationShape(d, await this.#connectionArns([d]));
  }

  async listApiDestinations(input: Input): Promise<Output> {
    const limit = limitOf(input.Limit);
    const connection =
      input.ConnectionArn === undefined ? undefined : await this.#connectionOf(input.ConnectionArn);
    const page = await this.#o.repo.listApiDestinations({
      prefix: stringOr(input.NamePrefix),
      ...(connection ? { connectionName: connection } : {}),
      after: tokenOf(input.NextToken),
      limit: limit + 1,
    });
    const arns = await this.#connectionArns(page);
    return paged(
      page,
      limit,
      (d) => d.name,
      "ApiDestinations",
      (d) => this.#destinationShape(d, arns),
    );
  }

  async updateApiDestination(input: Input): Promise<Output> {
    const before = await this.#destination(input.Name);
    const d: ApiDestinationRecord = {
      ...before,
      description:
        input.Description === undefined
          ? before.description
          : optionalString(input.Description, "Description", 512),
      connectionName:
        input.ConnectionArn === undefined
          ? before.connectionName
          : await this.#connectionOf(input.ConnectionArn),
      endpoint:
        input.InvocationEndpoint === undefined ? before.endpoint : endpointOf(input.InvocationEndpoint),
      httpMethod: input.HttpMethod === undefined ? before.httpMethod : methodOf(input.HttpMethod),
      rateLimitPerSecond:
        input.InvocationRateLimitPerSecond === undefined
          ? before.rateLimitPerSecond
          : rateOf(input.InvocationRateLimitPerSecond),
      modifiedAt: this.#o.clock.now(),
    };
    if (!(await this.#o.repo.updateApiDestination(d))) throw notFound(`ApiDestination ${d.name}`);
    return this.#destinationState(d);
  }

  async deleteApiDestination(input: Input): Promise<Output> {
    const d = await this.#destination(input.Name);
    await this.#o.repo.deleteApiDestination(d.name);
    return {};
  }

  /** The destination an ARN names, if it exists now (and is that one: its UUID, if the ARN has one, matches). */
  async destinationByArn(arn: string): Promise<ApiDestinationRecord | undefined> {
    const named = namedByArn(this.#o.account, "api-destination", arn);
    if (!named) return undefined;
    const d = await this.#o.repo.getApiDestination(named.name);
    return d && (named.uuid === undefined || named.uuid === d.uuid) ? d : undefined;
  }

  /**
   * Whether the API destination a target's ARN names exists; throws if the target's
   * `PathParameterValues` do not fill the endpoint's `*`s, one each.
   */
  async targetExists(t: TargetRecord): Promise<boolean> {
    const dest = await this.destinationByArn(t.arn);
    if (!dest) return false;
    const stars = pathParameterCount(dest.endpoint);
    const given = t.httpParameters?.pathValues.length ?? 0;
    if (stars !== given)
      throw new Error(
        `the API destination's endpoint ${dest.endpoint} has ${stars} path parameters (*): HttpParameters.PathParameterValues must give ${stars}, not ${given}`,
      );
    return true;
  }

  /**
   * Queues an event (as the target's input made it) for the API destination the target names:
   * durable when it resolves. The dead-letter queue is the target's, else `busDeadLetter()`'s.
   */
  async queue(
    target: TargetRecord,
    ruleArn: string,
    payload: string,
    busDeadLetter: () => Promise<string | undefined>,
  ): Promise<void> {
    const dest = await this.destinationByArn(target.arn);
    if (!dest) throw new Error(`the API destination ${target.arn} does not exist`);
    const now = this.#o.clock.now();
    const http = target.httpParameters ?? { pathValues: [], headers: {}, query: {} };
    await this.#o.repo.enqueueHttpDeliveries([
      {
        id: randomUUID(),
        destinationName: dest.name,
        createdAt: now,
        nextAt: now,
        attempts: 0,
        payload,
        lastError: undefined,
        spec: {
          ruleArn,
          targetArn: target.arn,
          targetId: target.id,
          ...http,
          deadLetterArn: target.deadLetterArn ?? (await busDeadLetter()),
          maxRetries: target.maximumRetryAttempts ?? 185,
          expiresAt: now + (target.maximumEventAgeInSeconds ?? 86_400) * 1000,
        },
      },
    ]);
    this.#o.queued();
  }

  // ── Shapes and lookups ─────────────────────────────────────────────────────
  #connectionState(c: ConnectionRecord): Output {
    return {
      ConnectionArn: connectionArn(this.#o.account, c.name, c.uuid),
      ConnectionState: c.state,
      CreationTime: c.createdAt / 1000,
      LastModifiedTime: c.modifiedAt / 1000,
      ...(c.authorizedAt !== undefined ? { LastAuthorizedTime: c.authorizedAt / 1000 } : {}),
    };
  }

  #connectionSummary(c: ConnectionRecord): Output {
    return {
      ...this.#connectionState(c),
      Name: c.name,
      ...(c.stateReason ? { StateReason: c.stateReason } : {}),
      AuthorizationType: c.authorizationType,
    };
  }

  #destinationState(d: ApiDestinationRecord): Output {
    return {
      ApiDestinationArn: apiDestinationArn(this.#o.account, d.name, d.uuid),
      ApiDestinationState: d.state,
      CreationTime: d.createdAt / 1000,
      LastModifiedTime: d.modifiedAt / 1000,
    };
  }

  /** The ARNs of the destinations' connections, by name. */
  async #connectionArns(ds: readonly ApiDestinationRecord[]): Promise<Map<string, string>> {
    const arns = new Map<string, string>();
    for (const name of new Set(ds.map((d) => d.connectionName))) {
      const c = await this.#o.repo.getConnection(name);
      if (c) arns.set(name, connectionArn(this.#o.account, c.name, c.uuid));
    }
    return arns;
  }

  #destinationShape(d: ApiDestinationRecord, connectionArns: ReadonlyMap<string, string>): Output {
    return {
      ...this.#destinationState(d),
      Name: d.name,
      ...(d.description ? { Description: d.description } : {}),
      ConnectionArn: connectionArns.get(d.connectionName),
      InvocationEndpoint: d.endpoint,
      HttpMethod: d.httpMethod,
      InvocationRateLimitPerSecond: d.rateLimitPerSecond ?? DEFAULT_RATE_LIMIT,
    };
  }

  async #connection(given: unknown): Promise<ConnectionRecord> {
    const name = checkName("connection", given);
    const c = await this.#o.repo.getConnection(name);
    if (!c) throw notFound(`Connection ${name}`);
    return c;
  }

  async #destination(given: unknown): Promise<ApiDestinationRecord> {
    const name = checkName("api-destination", given);
    const d = await this.#o.repo.getApiDestination(name);
    if (!d) throw notFound(`ApiDestination ${name}`);
    return d;
  }

  /** The connection an ARN names; it must exist. */
  async #connectionOf(given: unknown): Promise<string> {
    const prefix = `arn:aws:events:${this.#o.account.region}:${this.#o.account.accountId}:connection/`;
    const named = typeof given === "string" ? namedByArn(this.#o.account, "connection", given) : undefined;
    if (!named)
      throw validation(
        `ConnectionArn ${JSON.stringify(given ?? null)} is not a connection ARN of this account: ${prefix}<name>/<uuid>.`,
      );
    const c = await this.#o.repo.getConnection(named.name);
    if (!c || (named.uuid !== undefined && named.uuid !== c.uuid)) throw notFound(`Connection ${named.name}`);
    return c.name;
  }
}

/** Connections to private endpoints (through a VPC resource) have no meaning here: said, not dropped. */
function refusePrivate(input: Input): void {
  const p = input.AuthParameters as { ConnectivityParameters?: unknown } | undefined;
  if (input.InvocationConnectivityParameters !== undefined || p?.ConnectivityParameters !== undefined)
    throw validation(
      "InvocationConnectivityParameters (a private endpoint) is not served by Nimbus: its connections reach endpoints by their URL.",
    );
}

/** How many `*`s an endpoint has: the PathParameterValues a target must give it. */
export const pathParameterCount = (endpoint: string): number => endpoint.split("*").length - 1;

function endpointOf(v: unknown): string {
  let url: URL;
  try {
    url = new URL(String(v));
  } catch {
    throw validation(
      `InvocationEndpoint ${JSON.stringify(v ?? null)} is not a URL: expected https://host/path (http is allowed too).`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw validation(`InvocationEndpoint must be an http or https URL, got ${url.protocol}.`);
  if ((v as string).length > 2048) throw validation("InvocationEndpoint must be at most 2048 characters.");
  return v as string;
}

function methodOf(v: unknown): HttpMethod {
  if (!METHODS.includes(v as HttpMethod))
    throw validation(`HttpMethod must be one of ${METHODS.join(", ")}, got ${JSON.stringify(v ?? null)}.`);
  return v as HttpMethod;
}

function rateOf(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > MAX_RATE_LIMIT)
    throw validation(`InvocationRateLimitPerSecond must be an integer from 1 to ${MAX_RATE_LIMIT}.`);
  return v as number;
}
