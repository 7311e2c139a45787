/**
 * Rows packed for the hop to the writing thread: all their strings in one string (with their
 * lengths) and all their numbers in one Float64Array, instead of one object per row. Posting
 * objects costs V8's serializer on this thread and its deserializer on the other ~10 µs per
 * usage record (measured: most of what metering cost the warm path); a string and two typed
 * arrays (transferred, not copied) cost a fraction of that.
 */

export interface PackedRows {
  readonly count: number;
  readonly strings: number;
  readonly numbers: number;
  /** Every string field of every row, one after the other. */
  readonly text: string;
  /** Each string's length, row by row; NULL_LENGTH for an absent one. */
  readonly lengths: Uint32Array;
  /** Each number, row by row; NaN for an absent one. */
  readonly values: Float64Array;
}

const NULL_LENGTH = 0xffffffff;

/** A row's fields: its strings, then its numbers (each may be absent). */
export interface RowShape<T> {
  /** The table's columns the fields go to, in the same order: the strings', then the numbers'. */
  readonly columns: readonly string[];
  readonly strings: ReadonlyArray<(row: T) => string | undefined>;
  readonly numbers: ReadonlyArray<(row: T) => number | boolean | undefined>;
}

/**
 * A shape from its fields named by column: the insert's column list comes from the same
 * declaration as the packing, so the two cannot fall out of step.
 */
export function rowShape<T>(fields: {
  readonly strings: Readonly<Record<string, (row: T) => string | undefined>>;
  readonly numbers: Readonly<Record<string, (row: T) => number | boolean | undefined>>;
}): RowShape<T> {
  return {
    columns: [...Object.keys(fields.strings), ...Object.keys(fields.numbers)],
    strings: Object.values(fields.strings),
    numbers: Object.values(fields.numbers),
  };
}

export function packRows<T>(rows: readonly T[], shape: RowShape<T>): PackedRows {
  const s = shape.strings.length;
  const n = shape.numbers.length;
  const lengths = new Uint32Array(rows.length * s);
  const values = new Float64Array(rows.length * n);
  const parts: string[] = [];
  let li = 0;
  let vi = 0;
  for (const row of rows) {
    for (const get of shape.strings) {
      const v = get(row);
      if (v === undefined) lengths[li++] = NULL_LENGTH;
      else {
        lengths[li++] = v.length;
        parts.push(v);
      }
    }
    for (const get of shape.numbers) {
      const v = get(row);
      values[vi++] = v === undefined ? Number.NaN : Number(v);
    }
  }
  return { count: rows.length, strings: s, numbers: n, text: parts.join(""), lengths, values };
}

/** What to pass as postMessage's transfer list: the arrays move instead of being copied. */
export function transferables(p: PackedRows): ArrayBuffer[] {
  return [p.lengths.buffer as ArrayBuffer, p.values.buffer as ArrayBuffer];
}

/** Reads packed rows back in order, each into a parameter array (strings, then numbers). */
export class RowReader {
  readonly #p: PackedRows;
  #at = 0;
  #li = 0;
  #vi = 0;

  constructor(p: PackedRows) {
    this.#p = p;
  }

  /** Writes the next row's fields into `target` from `offset`: absent ones as null. */
  next(target: Array<string | number | null>, offset: number): void {
    const p = this.#p;
    let o = offset;
    for (let i = 0; i < p.strings; i++) {
      const len = p.lengths[this.#li++]!;
      if (len === NULL_LENGTH) target[o++] = null;
      else {
        target[o++] = p.text.slice(this.#at, this.#at + len);
        this.#at += len;
      }
    }
    for (let i = 0; i < p.numbers; i++) {
      const v = p.values[this.#vi++]!;
      target[o++] = Number.isNaN(v) ? null : v;
    }
  }
}
