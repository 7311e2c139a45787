/**
 * The event bus's storage (SQLite and PostgreSQL, `store/`; one contract suite,
 * `store/contract/events.contract.ts`). The platform keeps rules and targets in memory to
 * match events (it loads them at start and after each change); archives are appended to as
 * events pass and read back by replays.
 */
import type {
  ApiDestinationRecord,
  ArchivedEvent,
  ArchiveRecord,
  ConnectionRecord,
  EventBusRecord,
  HttpDeliveryRecord,
  ReplayRecord,
  RuleRecord,
  TargetRecord,
} from "./model.js";

export interface EventsRepo {
  /** Inserts it; false (nothing written) if a bus of that name exists. */
  createBus(bus: EventBusRecord): Promise<boolean>;
  getBus(name: string): Promise<EventBusRecord | undefined>;
  /** Buses whose names start with `prefix`, in byte order, after `after`, at most `limit`. */
  listBuses(o: { prefix?: string; after?: string; limit: number }): Promise<EventBusRecord[]>;
  updateBus(bus: EventBusRecord): Promise<boolean>;
  /** Deletes the bus with its rules and their targets (not its archives); false if none. */
  deleteBus(name: string): Promise<boolean>;

  /** Inserts or replaces the rule (its targets are kept). */
  putRule(rule: RuleRecord): Promise<void>;
  getRule(busName: string, name: string): Promise<RuleRecord | undefined>;
  /** A bus's rules whose names start with `prefix`, in byte order of names, after `after`, at most `limit`. */
  listRules(o: { busName: string; prefix?: string; after?: string; limit: number }): Promise<RuleRecord[]>;
  /** Every rule of every bus, with its targets: what the platform matches events against. */
  allRules(): Promise<Array<{ rule: RuleRecord; targets: TargetRecord[] }>>;
  /** Deletes the rule; false if none. A rule with targets is not deleted: it throws. */
  deleteRule(busName: string, name: string): Promise<boolean>;

  /** Inserts or replaces targets (by id) of one rule in one transaction. */
  putTargets(targets: readonly TargetRecord[]): Promise<void>;
  /** Removes those ids of the rule; returns the ids that were there. */
  removeTargets(busName: string, ruleName: string, ids: readonly string[]): Promise<string[]>;
  /** A rule's targets in byte order of their ids. */
  listTargets(busName: string, ruleName: string): Promise<TargetRecord[]>;

  createArchive(a: ArchiveRecord): Promise<boolean>;
  getArchive(name: string): Promise<ArchiveRecord | undefined>;
  listArchives(o: {
    busName?: string;
    prefix?: string;
    after?: string;
    limit: number;
  }): Promise<ArchiveRecord[]>;
  updateArchive(a: ArchiveRecord): Promise<boolean>;
  /** Deletes the archive and its events; false if none. */
  deleteArchive(name: string): Promise<boolean>;
  /** Appends events to an archive in one transaction; `time` is each event's time. */
  archiveEvents(archiveName: string, events: ReadonlyArray<{ time: number; event: string }>): Promise<void>;
  /** Archived events with time in [from, to), in order, after `afterSeq`, at most `limit`. */
  readArchive(
    archiveName: string,
    o: { from: number; to: number; afterSeq: number; limit: number },
  ): Promise<ArchivedEvent[]>;
  /** How many events an archive holds and their total size in bytes. */
  archiveStats(archiveName: string): Promise<{ count: number; bytes: number }>;
  /** Deletes archived events older than `before` (epoch ms, by their time); returns how many. */
  expireArchive(archiveName: string, before: number): Promise<number>;

  createReplay(r: ReplayRecord): Promise<boolean>;
  getReplay(name: string): Promise<ReplayRecord | undefined>;
  listReplays(o: {
    archiveName?: string;
    prefix?: string;
    after?: string;
    limit: number;
  }): Promise<ReplayRecord[]>;
  updateReplay(r: ReplayRecord): Promise<boolean>;
}

/**
 * Connections, API destinations, and the deliveries of events to them (an outbox the platform
 * drains: `http-delivery.ts`). One contract suite, `store/contract/api-destinations.contract.ts`.
 */
export interface ApiDestinationsRepo {
  /** Inserts it; false (nothing written) if a connection of that name exists. */
  createConnection(c: ConnectionRecord): Promise<boolean>;
  getConnection(name: string): Promise<ConnectionRecord | undefined>;
  /** Connections whose names start with `prefix` (and in `state`, if given), by name, after `after`, at most `limit`. */
  listConnections(o: {
    prefix?: string;
    state?: string;
    after?: string;
    limit: number;
  }): Promise<ConnectionRecord[]>;
  /** Replaces it; false if none. */
  updateConnection(c: ConnectionRecord): Promise<boolean>;
  deleteConnection(name: string): Promise<boolean>;

  createApiDestination(d: ApiDestinationRecord): Promise<boolean>;
  getApiDestination(name: string): Promise<ApiDestinationRecord | undefined>;
  /** By name, after `after`; only those of `connectionName` if given. */
  listApiDestinations(o: {
    prefix?: string;
    connectionName?: string;
    after?: string;
    limit: number;
  }): Promise<ApiDestinationRecord[]>;
  updateApiDestination(d: ApiDestinationRecord): Promise<boolean>;
  deleteApiDestination(name: string): Promise<boolean>;

  /** Stores deliveries in one transaction: durable when it resolves. An id already stored is kept as it was. */
  enqueueHttpDeliveries(ds: readonly HttpDeliveryRecord[]): Promise<void>;
  /**
   * Up to `limit` deliveries whose `nextAt` <= `now`, earliest `nextAt` first, each moved to
   * `nextAt = leaseUntil` as it is taken (atomically: two callers never take the same one), so
   * that a crash during the attempt leaves it to be taken again then.
   */
  claimHttpDeliveries(now: number, leaseUntil: number, limit: number): Promise<HttpDeliveryRecord[]>;
  /**
   * After a failed attempt: sets attempts, nextAt and lastError, if the delivery is still at
   * `lease` (the `nextAt` its claim gave it). False, with nothing written, when it is gone or
   * was claimed again since (its lease lapsed and another claim took it): that claimer owns it.
   */
  retryHttpDelivery(
    id: string,
    lease: number,
    attempts: number,
    nextAt: number,
    lastError: string,
  ): Promise<boolean>;
  /** Delivered or given up: gone, if still at `lease` (as for a retry); false if not. */
  deleteHttpDelivery(id: string, lease: number): Promise<boolean>;
  /** The earliest `nextAt` of any delivery; undefined when none waits. */
  nextHttpDeliveryAt(): Promise<number | undefined>;
  /** How many deliveries wait for a destination. */
  countHttpDeliveries(destinationName: string): Promise<number>;
}
