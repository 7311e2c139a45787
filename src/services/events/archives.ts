/**
 * Archives and replays: an archive keeps the events of a bus (those its pattern matches) for
 * its retention; a replay sends an archive's events of a time window to a bus again, to all
 * its rules or to the ones named, each marked with `replay-name`. A replay runs in the
 * platform that started it, in pages; its progress is stored (`lastReplayedAt`), and one cut
 * short by a restart is marked FAILED with that reason at the next start.
 */
import { compilePattern, type EventMatcher } from "../../protocol/events/pattern.js";
import type { Clock, TimerHandle } from "../../shared/clock.js";
import type { Envelope } from "./envelope.js";
import { EventsError, notFound, validation } from "./errors.js";
import type { ArchiveRecord, ReplayRecord } from "./model.js";
import {
  archiveArn,
  archiveFromArn,
  busArn,
  busFromArn,
  checkName,
  type EventsAccount,
  replayArn,
} from "./names.js";
import type { EventsRepo } from "./repo.js";
import { checkPattern } from "./rules.js";

type Input = Readonly<Record<string, unknown>>;
type Output = Record<string, unknown>;

const DAY_MS = 24 * 3600 * 1000;
/** How often events past their archive's retention are removed. */
const SWEEP_MS = 3600 * 1000;
const REPLAY_PAGE = 100;

export interface ArchivesDeps {
  readonly repo: EventsRepo;
  readonly clock: Clock;
  readonly account: EventsAccount;
  /** Delivers a replayed event to a bus, to the named rules only (empty: all). */
  readonly replay: (bus: string, event: Envelope, rules: ReadonlySet<string>) => Promise<void>;
  readonly busExists: (bus: string) => Promise<boolean>;
}

export class Archives {
  readonly #o: ArchivesDeps;
  /** Enabled archives per bus, with their matchers. */
  #byBus = new Map<string, Array<{ name: string; matches: EventMatcher | undefined }>>();
  readonly #cancelled = new Set<string>();
  #sweep: TimerHandle | undefined;

  constructor(deps: ArchivesDeps) {
    this.#o = deps;
  }

  async start(): Promise<void> {
    await this.#reload();
    // Retention holds on a platform that runs for weeks, not only at start and on changes.
    this.#sweep = this.#o.clock.setInterval(() => this.#expire(), SWEEP_MS);
    for (const r of await this.#o.repo.listReplays({ limit: 1000 }))
      if (r.state === "STARTING" || r.state === "RUNNING" || r.state === "CANCELLING")
        await this.#o.repo.updateReplay({
          ...r,
          state: "FAILED",
          stateReason: "The platform stopped while the replay ran: start it again.",
          endedAt: this.#o.clock.now(),
        });
  }

  stop(): void {
    this.#sweep?.cancel();
    this.#sweep = undefined;
  }

  /** Removes what each archive keeps past its retention; a failure is retried at the next sweep. */
  async #expire(): Promise<void> {
    try {
      const now = this.#o.clock.now();
      for (const a of await this.#o.repo.listArchives({ limit: 10_000 }))
        if (a.retentionDays > 0) await this.#o.repo.expireArchive(a.name, now - a.retentionDays * DAY_MS);
    } catch {
      // The next sweep tries again; an archive keeps its events a little longer meanwhile.
    }
  }

  /** Keeps `event` in every enabled archive of `bus` whose pattern it matches. */
  async record(bus: string, event: Envelope): Promise<void> {
    const archives = this.#byBus.get(bus);
    if (!archives) return;
    const text = JSON.stringify(event);
    const time = Date.parse(event.time);
    for (const a of archives)
      if (!a.matches || a.matches(event)) await this.#o.repo.archiveEvents(a.name, [{ time, event: text }]);
  }

  async createArchive(input: Input): Promise<Output> {
    const name = checkName("archive", input.ArchiveName);
    const bus = busFromArn(this.#o.account, String(input.EventSourceArn ?? ""));
    if (bus === undefined || !(await this.#o.busExists(bus)))
      throw notFound(`Event bus ${String(input.EventSourceArn)}`);
    const pattern = optionalPattern(input.EventPattern);
    const now = this.#o.clock.now();
    const a: ArchiveRecord = {
      name,
      busName: bus,
      eventPattern: pattern,
      description: typeof input.Description === "string" ? input.Description : undefined,
      retentionDays: retention(input.RetentionDays),
      state: "ENABLED",
      createdAt: now,
    };
    if (!(await this.#o.repo.createArchive(a)))
      throw new EventsError("ResourceAlreadyExistsException", `Archive ${name} already exists.`);
    await this.#reload();
    return { ArchiveArn: archiveArn(this.#o.account, name), State: a.state, CreationTime: now / 1000 };
  }

  async describeArchive(input: Input): Promise<Output> {
    const a = await this.#archive(input.ArchiveName);
    const stats = await this.#o.repo.archiveStats(a.name);
    return {
      ...this.#shape(a),
      ...(a.eventPattern ? { EventPattern: a.eventPattern } : {}),
      SizeBytes: stats.bytes,
      EventCount: stats.count,
    };
  }

  async listArchives(input: Input): Promise<Output> {
    const bus =
      input.EventSourceArn === undefined
        ? undefined
        : busFromArn(this.#o.account, String(input.EventSourceArn));
    const page = await this.#o.repo.listArchives({
      busName: bus,
      prefix: typeof input.NamePrefix === "string" ? input.NamePrefix : undefined,
      limit: 100,
    });
    return {
      Archives: page
        .filter((a) => input.State === undefined || a.state === input.State)
        .map((a) => this.#shape(a)),
    };
  }

  async updateArchive(input: Input): Promise<Output> {
    const a = await this.#archive(input.ArchiveName);
    const next: ArchiveRecord = {
      ...a,
      eventPattern: input.EventPattern === undefined ? a.eventPattern : optionalPattern(input.EventPattern),
      description: typeof input.Description === "string" ? input.Description : a.description,
      retentionDays: input.RetentionDays === undefined ? a.retentionDays : retention(input.RetentionDays),
    };
    await this.#o.repo.updateArchive(next);
    await this.#reload();
    return {
      ArchiveArn: archiveArn(this.#o.account, a.name),
      State: next.state,
      CreationTime: a.createdAt / 1000,
    };
  }

  async deleteArchive(input: Input): Promise<Output> {
    const a = await this.#archive(input.ArchiveName);
    await this.#o.repo.deleteArchive(a.name);
    await this.#reload();
    return {};
  }

  async startReplay(input: Input): Promise<Output> {
    const name = checkName("replay", input.ReplayName);
    const archive = await this.#archive(archiveFromArn(this.#o.account, input.EventSourceArn));
    const start = seconds(input.EventStartTime, "EventStartTime");
    const end = seconds(input.EventEndTime, "EventEndTime");
    if (end <= start) throw validation("EventEndTime must be after EventStartTime.");
    if (end > this.#o.clock.now()) throw validation("EventEndTime cannot be in the future.");
    const dest = (input.Destination ?? {}) as { Arn?: unknown; FilterArns?: unknown };
    const bus = busFromArn(this.#o.account, String(dest.Arn ?? ""));
    if (bus === undefined || bus !== archive.busName)
      throw validation(
        `Destination.Arn must be the archive's own bus, ${busArn(this.#o.account, archive.busName)}.`,
      );
    const rules = Array.isArray(dest.FilterArns)
      ? dest.FilterArns.map((arn) => String(arn).split("/").pop()!)
      : [];
    const now = this.#o.clock.now();
    const r: ReplayRecord = {
      name,
      archiveName: archive.name,
      description: typeof input.Description === "string" ? input.Description : undefined,
      eventStartTime: start,
      eventEndTime: end,
      destinationBus: bus,
      destinationRules: rules,
      state: "STARTING",
      stateReason: undefined,
      startedAt: now,
      endedAt: undefined,
      lastReplayedAt: undefined,
    };
    if (!(await this.#o.repo.createReplay(r)))
      throw new EventsError("ResourceAlreadyExistsException", `Replay ${name} already exists.`);
    void this.#run(r);
    return { ReplayArn: replayArn(this.#o.account, name), State: "STARTING", ReplayStartTime: now / 1000 };
  }

  async describeReplay(input: Input): Promise<Output> {
    return this.#replayShape(await this.#replay(input.ReplayName));
  }

  async listReplays(input: Input): Promise<Output> {
    const archive =
      input.EventSourceArn === undefined ? undefined : archiveFromArn(this.#o.account, input.EventSourceArn);
    const page = await this.#o.repo.listReplays({
      archiveName: archive,
      prefix: typeof input.NamePrefix === "string" ? input.NamePrefix : undefined,
      limit: 100,
    });
    return {
      Replays: page
        .filter((r) => input.State === undefined || r.state === input.State)
        .map((r) => this.#replayShape(r)),
    };
  }

  async cancelReplay(input: Input): Promise<Output> {
    const r = await this.#replay(input.ReplayName);
    if (r.state !== "STARTING" && r.state !== "RUNNING")
      throw new EventsError(
        "IllegalStatusException",
        `Replay ${r.name} is ${r.state}: only a starting or running replay can be cancelled.`,
      );
    this.#cancelled.add(r.name);
    await this.#o.repo.updateReplay({ ...r, state: "CANCELLING" });
    return { ReplayArn: replayArn(this.#o.account, r.name), State: "CANCELLING" };
  }

  async #run(r: ReplayRecord): Promise<void> {
    let current: ReplayRecord = { ...r, state: "RUNNING" };
    await this.#o.repo.updateReplay(current);
    const rules = new Set(r.destinationRules);
    let afterSeq = 0;
    try {
      for (;;) {
        if (this.#cancelled.delete(r.name)) {
          current = { ...current, state: "CANCELLED", endedAt: this.#o.clock.now() };
          break;
        }
        const page = await this.#o.repo.readArchive(r.archiveName, {
          from: r.eventStartTime,
          to: r.eventEndTime,
          afterSeq,
          limit: REPLAY_PAGE,
        });
        for (const e of page) {
          const event = { ...(JSON.parse(e.event) as Envelope), "replay-name": r.name };
          await this.#o.replay(r.destinationBus, event, rules);
          afterSeq = e.seq;
          current = { ...current, lastReplayedAt: e.time };
        }
        if (page.length < REPLAY_PAGE) {
          current = { ...current, state: "COMPLETED", endedAt: this.#o.clock.now() };
          break;
        }
        await this.#o.repo.updateReplay(current);
      }
    } catch (err) {
      current = {
        ...current,
        state: "FAILED",
        stateReason: (err as Error).message,
        endedAt: this.#o.clock.now(),
      };
    }
    await this.#o.repo.updateReplay(current);
  }

  async #reload(): Promise<void> {
    const byBus = new Map<string, Array<{ name: string; matches: EventMatcher | undefined }>>();
    const now = this.#o.clock.now();
    for (const a of await this.#o.repo.listArchives({ limit: 10_000 })) {
      if (a.retentionDays > 0) await this.#o.repo.expireArchive(a.name, now - a.retentionDays * DAY_MS);
      if (a.state !== "ENABLED") continue;
      const list = byBus.get(a.busName) ?? [];
      list.push({ name: a.name, matches: a.eventPattern ? compilePattern(a.eventPattern) : undefined });
      byBus.set(a.busName, list);
    }
    this.#byBus = byBus;
  }

  async #archive(given: unknown): Promise<ArchiveRecord> {
    const name = checkName("archive", given);
    const a = await this.#o.repo.getArchive(name);
    if (!a) throw notFound(`Archive ${name}`);
    return a;
  }

  async #replay(given: unknown): Promise<ReplayRecord> {
    const name = checkName("replay", given);
    const r = await this.#o.repo.getReplay(name);
    if (!r) throw notFound(`Replay ${name}`);
    return r;
  }

  #shape(a: ArchiveRecord): Output {
    return {
      ArchiveName: a.name,
      ArchiveArn: archiveArn(this.#o.account, a.name),
      EventSourceArn: busArn(this.#o.account, a.busName),
      ...(a.description ? { Description: a.description } : {}),
      State: a.state,
      RetentionDays: a.retentionDays,
      CreationTime: a.createdAt / 1000,
    };
  }

  #replayShape(r: ReplayRecord): Output {
    return {
      ReplayName: r.name,
      ReplayArn: replayArn(this.#o.account, r.name),
      EventSourceArn: archiveArn(this.#o.account, r.archiveName),
      State: r.state,
      ...(r.stateReason ? { StateReason: r.stateReason } : {}),
      EventStartTime: r.eventStartTime / 1000,
      EventEndTime: r.eventEndTime / 1000,
      ReplayStartTime: r.startedAt / 1000,
      ...(r.endedAt !== undefined ? { ReplayEndTime: r.endedAt / 1000 } : {}),
      ...(r.lastReplayedAt !== undefined ? { EventLastReplayedTime: r.lastReplayedAt / 1000 } : {}),
      Destination: {
        Arn: busArn(this.#o.account, r.destinationBus),
        ...(r.destinationRules.length > 0 ? { FilterArns: r.destinationRules } : {}),
      },
    };
  }
}

function optionalPattern(v: unknown): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw validation("EventPattern must be JSON text.");
  checkPattern(v);
  return v;
}

function retention(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (!Number.isInteger(v) || (v as number) < 0)
    throw validation("RetentionDays must be a whole number of days, 0 for indefinitely.");
  return v as number;
}

/** A timestamp as the JSON protocol sends it: epoch seconds (a number). */
function seconds(v: unknown, field: string): number {
  if (typeof v === "number" && Number.isFinite(v)) return v * 1000;
  if (typeof v === "string" && Number.isFinite(Date.parse(v))) return Date.parse(v);
  throw validation(`${field} is required: a timestamp.`);
}
