/** Splits a sandbox's output into lines and keeps the last few KB of the current invocation. */

/** Cuts a byte stream into lines; a partial line waits for its end (or for flush). */
export class LineSplitter {
  #partial = "";
  readonly #emit: (line: string) => void;

  constructor(emit: (line: string) => void) {
    this.#emit = emit;
  }

  push(chunk: Buffer | string): void {
    const text = this.#partial + chunk.toString();
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl === -1) break;
      this.#emit(text.slice(start, nl));
      start = nl + 1;
    }
    this.#partial = text.slice(start);
    // A runaway line without newline must not grow without bound.
    if (this.#partial.length > 256 * 1024) this.flush();
  }

  flush(): void {
    if (this.#partial.length > 0) this.#emit(this.#partial);
    this.#partial = "";
  }
}

/** Keeps the newest lines within a byte budget. */
export class TailBuffer {
  #lines: string[] = [];
  #bytes = 0;
  readonly #budget: number;

  constructor(budgetBytes: number) {
    this.#budget = budgetBytes;
  }

  add(line: string): void {
    this.#lines.push(line);
    this.#bytes += Buffer.byteLength(line) + 1;
    while (this.#bytes > this.#budget && this.#lines.length > 1) {
      this.#bytes -= Buffer.byteLength(this.#lines.shift()!) + 1;
    }
  }

  text(): string {
    return this.#lines.length === 0 ? "" : `${this.#lines.join("\n")}\n`;
  }
}
