/**
 * The event bus's storage (SQLite and PostgreSQL, `store/`; one contract suite,
 * `store/contract/events.contract.ts`). The platform keeps rules and targets in memory to
 * match events (it loads them at start and after each change); archives are appended to as
 * events pass and read back by replays.
 */
import type {
  ArchivedEvent,
  ArchiveRecord,
  EventBusRecord,
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
