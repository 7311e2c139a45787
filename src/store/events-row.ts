/**
 * The event bus's rows as both stores keep them (same columns), the records they read as, and
 * what both do alike: group the rules' targets, answer a removal in the order asked, and refuse
 * to delete a rule with targets. Tags, maps and lists are JSON text; a pattern, a template and
 * an archived event are text columns of their own, so they read back exactly as written.
 */
import type {
  ArchivedEvent,
  ArchiveRecord,
  ArchiveState,
  EventBusRecord,
  InputTransformer,
  ReplayRecord,
  ReplayState,
  RuleRecord,
  RuleState,
  TargetHttpParameters,
  TargetRecord,
} from "../services/events/model.js";

export interface BusRow {
  name: string;
  description: string | null;
  dead_letter_arn: string | null;
  tags: string;
  created_at: number;
  modified_at: number;
}

export const BUS_COLUMNS = [
  "name",
  "description",
  "dead_letter_arn",
  "tags",
  "created_at",
  "modified_at",
] as const satisfies readonly (keyof BusRow)[];

/** What an update of a bus writes: all but its name and created time. */
export const BUS_UPDATED_COLUMNS = ["description", "dead_letter_arn", "tags", "modified_at"] as const;

export interface RuleRow {
  bus_name: string;
  name: string;
  event_pattern: string;
  state: RuleState;
  description: string | null;
  tags: string;
  created_at: number;
  modified_at: number;
}

export const RULE_COLUMNS = [
  "bus_name",
  "name",
  "event_pattern",
  "state",
  "description",
  "tags",
  "created_at",
  "modified_at",
] as const satisfies readonly (keyof RuleRow)[];

export interface TargetRow {
  bus_name: string;
  rule_name: string;
  id: string;
  arn: string;
  input: string | null;
  input_path: string | null;
  /** `{ inputPathsMap, inputTemplate }`, JSON. */
  input_transformer: string | null;
  maximum_retry_attempts: number | null;
  maximum_event_age_s: number | null;
  dead_letter_arn: string | null;
  /** An API destination target's `{ pathValues, headers, query }`, JSON. */
  http_parameters: string | null;
}

export const TARGET_COLUMNS = [
  "bus_name",
  "rule_name",
  "id",
  "arn",
  "input",
  "input_path",
  "input_transformer",
  "maximum_retry_attempts",
  "maximum_event_age_s",
  "dead_letter_arn",
  "http_parameters",
] as const satisfies readonly (keyof TargetRow)[];

export interface ArchiveRow {
  name: string;
  bus_name: string;
  event_pattern: string | null;
  description: string | null;
  retention_days: number;
  state: ArchiveState;
  created_at: number;
}

export const ARCHIVE_COLUMNS = [
  "name",
  "bus_name",
  "event_pattern",
  "description",
  "retention_days",
  "state",
  "created_at",
] as const satisfies readonly (keyof ArchiveRow)[];

/** What an update of an archive writes: all but its name, its bus and its created time. */
export const ARCHIVE_UPDATED_COLUMNS = ["event_pattern", "description", "retention_days", "state"] as const;

/** An archived event as read (the table also has `archive_name`, and `bytes` for the archive's size). */
export interface ArchivedEventRow {
  seq: number;
  time: number;
  event: string;
}

export interface ReplayRow {
  name: string;
  archive_name: string;
  description: string | null;
  event_start_time: number;
  event_end_time: number;
  destination_bus: string;
  /** JSON list of rule names. */
  destination_rules: string;
  state: ReplayState;
  state_reason: string | null;
  started_at: number;
  ended_at: number | null;
  last_replayed_at: number | null;
}

export const REPLAY_COLUMNS = [
  "name",
  "archive_name",
  "description",
  "event_start_time",
  "event_end_time",
  "destination_bus",
  "destination_rules",
  "state",
  "state_reason",
  "started_at",
  "ended_at",
  "last_replayed_at",
] as const satisfies readonly (keyof ReplayRow)[];

export function busRow(b: EventBusRecord): BusRow {
  return {
    name: b.name,
    description: b.description ?? null,
    dead_letter_arn: b.deadLetterArn ?? null,
    tags: JSON.stringify(b.tags),
    created_at: b.createdAt,
    modified_at: b.modifiedAt,
  };
}

/** Every field present, unset ones as undefined: the same object from either store. */
export function toBus(r: BusRow): EventBusRecord {
  return {
    name: r.name,
    description: r.description ?? undefined,
    deadLetterArn: r.dead_letter_arn ?? undefined,
    tags: JSON.parse(r.tags) as Record<string, string>,
    createdAt: r.created_at,
    modifiedAt: r.modified_at,
  };
}

export function ruleRow(r: RuleRecord): RuleRow {
  return {
    bus_name: r.busName,
    name: r.name,
    event_pattern: r.eventPattern,
    state: r.state,
    description: r.description ?? null,
    tags: JSON.stringify(r.tags),
    created_at: r.createdAt,
    modified_at: r.modifiedAt,
  };
}

export function toRule(r: RuleRow): RuleRecord {
  return {
    busName: r.bus_name,
    name: r.name,
    eventPattern: r.event_pattern,
    state: r.state,
    description: r.description ?? undefined,
    tags: JSON.parse(r.tags) as Record<string, string>,
    createdAt: r.created_at,
    modifiedAt: r.modified_at,
  };
}

export function targetRow(t: TargetRecord): TargetRow {
  return {
    bus_name: t.busName,
    rule_name: t.ruleName,
    id: t.id,
    arn: t.arn,
    input: t.input ?? null,
    input_path: t.inputPath ?? null,
    input_transformer:
      t.inputTransformer === undefined
        ? null
        : JSON.stringify({
            inputPathsMap: t.inputTransformer.inputPathsMap,
            inputTemplate: t.inputTransformer.inputTemplate,
          }),
    maximum_retry_attempts: t.maximumRetryAttempts ?? null,
    maximum_event_age_s: t.maximumEventAgeInSeconds ?? null,
    dead_letter_arn: t.deadLetterArn ?? null,
    http_parameters: t.httpParameters === undefined ? null : JSON.stringify(t.httpParameters),
  };
}

export function toTarget(r: TargetRow): TargetRecord {
  return {
    busName: r.bus_name,
    ruleName: r.rule_name,
    id: r.id,
    arn: r.arn,
    input: r.input ?? undefined,
    inputPath: r.input_path ?? undefined,
    inputTransformer: r.input_transformer === null ? undefined : toInputTransformer(r.input_transformer),
    maximumRetryAttempts: r.maximum_retry_attempts ?? undefined,
    maximumEventAgeInSeconds: r.maximum_event_age_s ?? undefined,
    deadLetterArn: r.dead_letter_arn ?? undefined,
    ...(r.http_parameters === null ? {} : { httpParameters: toHttpParameters(r.http_parameters) }),
  };
}

function toHttpParameters(json: string): TargetHttpParameters {
  const p = JSON.parse(json) as TargetHttpParameters;
  return { pathValues: p.pathValues, headers: p.headers, query: p.query };
}

function toInputTransformer(json: string): InputTransformer {
  const t = JSON.parse(json) as InputTransformer;
  return { inputPathsMap: t.inputPathsMap, inputTemplate: t.inputTemplate };
}

export function archiveRow(a: ArchiveRecord): ArchiveRow {
  return {
    name: a.name,
    bus_name: a.busName,
    event_pattern: a.eventPattern ?? null,
    description: a.description ?? null,
    retention_days: a.retentionDays,
    state: a.state,
    created_at: a.createdAt,
  };
}

export function toArchive(r: ArchiveRow): ArchiveRecord {
  return {
    name: r.name,
    busName: r.bus_name,
    eventPattern: r.event_pattern ?? undefined,
    description: r.description ?? undefined,
    retentionDays: r.retention_days,
    state: r.state,
    createdAt: r.created_at,
  };
}

export function toArchivedEvent(r: ArchivedEventRow): ArchivedEvent {
  return { seq: r.seq, time: r.time, event: r.event };
}

/** An archived event's row: its size is its UTF-8 bytes, counted once here for `archiveStats`. */
export function archivedEventRow(
  archiveName: string,
  e: { readonly time: number; readonly event: string },
): { archive_name: string; time: number; event: string; bytes: number } {
  return {
    archive_name: archiveName,
    time: e.time,
    event: e.event,
    bytes: Buffer.byteLength(e.event, "utf8"),
  };
}

export function replayRow(r: ReplayRecord): ReplayRow {
  return {
    name: r.name,
    archive_name: r.archiveName,
    description: r.description ?? null,
    event_start_time: r.eventStartTime,
    event_end_time: r.eventEndTime,
    destination_bus: r.destinationBus,
    destination_rules: JSON.stringify(r.destinationRules),
    state: r.state,
    state_reason: r.stateReason ?? null,
    started_at: r.startedAt,
    ended_at: r.endedAt ?? null,
    last_replayed_at: r.lastReplayedAt ?? null,
  };
}

export function toReplay(r: ReplayRow): ReplayRecord {
  return {
    name: r.name,
    archiveName: r.archive_name,
    description: r.description ?? undefined,
    eventStartTime: r.event_start_time,
    eventEndTime: r.event_end_time,
    destinationBus: r.destination_bus,
    destinationRules: JSON.parse(r.destination_rules) as string[],
    state: r.state,
    stateReason: r.state_reason ?? undefined,
    startedAt: r.started_at,
    endedAt: r.ended_at ?? undefined,
    lastReplayedAt: r.last_replayed_at ?? undefined,
  };
}

/**
 * Each rule with its targets, in the rules' order; `targets` in id order, as read (the two
 * lists from one snapshot, so every target's rule is among the rules).
 */
export function withTargets(
  rules: readonly RuleRecord[],
  targets: readonly TargetRecord[],
): Array<{ rule: RuleRecord; targets: TargetRecord[] }> {
  const key = (busName: string, ruleName: string) => JSON.stringify([busName, ruleName]);
  const byRule = new Map<string, TargetRecord[]>();
  for (const t of targets) {
    const k = key(t.busName, t.ruleName);
    const list = byRule.get(k);
    if (list) list.push(t);
    else byRule.set(k, [t]);
  }
  return rules.map((rule) => ({ rule, targets: byRule.get(key(rule.busName, rule.name)) ?? [] }));
}

/** An upsert's SET, in SQLite and PostgreSQL alike: every column but the key's, from the row proposed. */
export function upsertSet(columns: readonly string[], key: readonly string[]): string {
  return columns
    .filter((c) => !key.includes(c))
    .map((c) => `${c} = excluded.${c}`)
    .join(", ");
}

/** The ids asked for that were removed, once each, in the order asked. */
export function removedInOrder(asked: readonly string[], removed: ReadonlySet<string>): string[] {
  return [...new Set(asked)].filter((id) => removed.has(id));
}

/** Why `deleteRule` refused: EventBridge deletes no rule that still has targets. */
export function ruleHasTargets(busName: string, name: string, count: number): Error {
  return new Error(
    `cannot delete rule "${name}" of event bus "${busName}": the rule has targets (${count}); remove them first`,
  );
}
