/**
 * An event source mapping's row, as both stores keep it (same columns, `enabled` 0/1 in SQLite and
 * a boolean in PostgreSQL), and the mapping it reads as. The lists are JSON text: a filter is a
 * string inside it, so it reads back exactly as written (spacing, escapes, any character).
 */
import type { EventSourceMapping, MappingState } from "../control/triggers/mappings/repo.js";

export interface MappingRow {
  uuid: string;
  event_source_arn: string;
  function_name: string;
  qualifier: string | null;
  batch_size: number;
  maximum_batching_window_s: number;
  function_response_types: string;
  filters: string;
  maximum_concurrency: number | null;
  enabled: number | boolean;
  state: MappingState;
  state_transition_reason: string;
  last_processing_result: string;
  last_modified: number;
}

/** Every column, in the order of the table. */
export const MAPPING_COLUMNS = [
  "uuid",
  "event_source_arn",
  "function_name",
  "qualifier",
  "batch_size",
  "maximum_batching_window_s",
  "function_response_types",
  "filters",
  "maximum_concurrency",
  "enabled",
  "state",
  "state_transition_reason",
  "last_processing_result",
  "last_modified",
] as const satisfies readonly (keyof MappingRow)[];

/** The row of `m`, `enabled` a boolean (SQLite binds it as 0/1). */
export function mappingRow(m: EventSourceMapping): MappingRow & { enabled: boolean } {
  return {
    uuid: m.uuid,
    event_source_arn: m.eventSourceArn,
    function_name: m.functionName,
    qualifier: m.qualifier ?? null,
    batch_size: m.batchSize,
    maximum_batching_window_s: m.maximumBatchingWindowInSeconds,
    function_response_types: JSON.stringify(m.functionResponseTypes),
    filters: JSON.stringify(m.filters),
    maximum_concurrency: m.maximumConcurrency ?? null,
    enabled: m.enabled,
    state: m.state,
    state_transition_reason: m.stateTransitionReason,
    last_processing_result: m.lastProcessingResult,
    last_modified: m.lastModified,
  };
}

/** Every field present, unset ones as undefined: the same object from either store. */
export function toMapping(r: MappingRow): EventSourceMapping {
  return {
    uuid: r.uuid,
    eventSourceArn: r.event_source_arn,
    functionName: r.function_name,
    qualifier: r.qualifier ?? undefined,
    batchSize: r.batch_size,
    maximumBatchingWindowInSeconds: r.maximum_batching_window_s,
    functionResponseTypes: JSON.parse(r.function_response_types) as string[],
    filters: JSON.parse(r.filters) as string[],
    maximumConcurrency: r.maximum_concurrency ?? undefined,
    enabled: r.enabled === true || r.enabled === 1,
    state: r.state,
    stateTransitionReason: r.state_transition_reason,
    lastProcessingResult: r.last_processing_result,
    lastModified: r.last_modified,
  };
}
