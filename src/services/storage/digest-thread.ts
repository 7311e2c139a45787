/**
 * Hashing a large body off the event loop. A body's ETag is the MD5 of every byte, which Node
 * computes at ~700 MB/s here: on the platform's one thread that alone held a 64 MB PUT to a
 * fifth of the disk's rate. Bodies of 1 MiB and more (or of unknown length) are hashed by a
 * thread of their own instead, fed each 1 MiB batch once the disk has it (its buffer moved, not copied), while
 * the event loop goes on reading the socket. At most 4 MiB per stream wait for the thread
 * (`ready()`), so a slow thread slows the upload rather than growing memory. Small bodies are
 * hashed where they are: posting them would cost more than hashing them.
 */
import { Worker } from "node:worker_threads";
import type { BlobDigests } from "./blobs.js";
import { Digester } from "./checksums.js";
import type { ChecksumAlgorithm } from "./model.js";

export type DigestRequest =
  | { readonly op: "open"; readonly id: number; readonly algorithms: readonly ChecksumAlgorithm[] }
  | { readonly op: "update"; readonly id: number; readonly bytes: Uint8Array }
  | { readonly op: "digest"; readonly id: number }
  | { readonly op: "drop"; readonly id: number };

export type DigestReply =
  | { readonly op: "updated"; readonly id: number; readonly bytes: number; readonly buffer: ArrayBuffer }
  | { readonly op: "digests"; readonly id: number; readonly digests: BlobDigests }
  | { readonly op: "failed"; readonly id: number; readonly error: string };

/** Bodies at least this large (or of unknown length) are hashed on the thread. */
export const THREADED_DIGEST_MIN_BYTES = 1024 * 1024;
/** Bytes of one stream sent and not yet hashed, past which `ready()` waits. */
const MAX_UNHASHED_BYTES = 4 * 1024 * 1024;

/** MD5 and checksums over a stream fed in order: here, or on the digest thread. */
export interface StreamDigester {
  /**
   * With `handOver`, the caller is done with `bytes`: the hasher may take its buffer, and gives
   * it back (to the `returned` the digester was made with) once hashed.
   */
  update(bytes: Uint8Array, o?: { handOver?: boolean }): void;
  /** Resolves once little enough waits to be hashed. */
  ready(): Promise<void>;
  /** The digests of everything given; call once, at the end. */
  digest(): Promise<BlobDigests>;
  /** Gives up the stream (an upload refused or broken). */
  abort(): void;
}

/** A buffer handed over for hashing, given back once hashed. */
export type Returned = (buffer: Uint8Array) => void;

/** Hashing on the caller's thread. */
export function localDigester(algorithms: readonly ChecksumAlgorithm[], returned?: Returned): StreamDigester {
  const d = new Digester(algorithms);
  return {
    update: (bytes, o) => {
      d.update(bytes);
      if (o?.handOver) returned?.(bytes);
    },
    ready: () => Promise.resolve(),
    digest: () => d.digest(),
    abort: () => {},
  };
}

class ThreadStream implements StreamDigester {
  #unhashed = 0;
  #waiters: (() => void)[] = [];
  #result: { resolve(d: BlobDigests): void; reject(err: Error): void } | undefined;
  #failure: Error | undefined;

  constructor(
    readonly id: number,
    readonly post: (req: DigestRequest, transfer?: ArrayBuffer[]) => void,
    readonly done: (id: number) => void,
    readonly returned: Returned | undefined,
  ) {}

  update(bytes: Uint8Array, o: { handOver?: boolean } = {}): void {
    if (this.#failure !== undefined) return;
    this.#unhashed += bytes.byteLength;
    // Sent by moving its buffer, never by cloning it: a buffer the caller handed over, whole, as
    // it is; anything else (a view of a larger or pooled buffer) as a copy of itself.
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const own = whole && o.handOver === true ? bytes : new Uint8Array(bytes);
    this.post({ op: "update", id: this.id, bytes: own }, [own.buffer as ArrayBuffer]);
  }

  ready(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#unhashed <= MAX_UNHASHED_BYTES) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  digest(): Promise<BlobDigests> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#result = { resolve, reject };
      this.post({ op: "digest", id: this.id });
    });
  }

  abort(): void {
    this.post({ op: "drop", id: this.id });
    this.done(this.id);
  }

  /** What the thread answered about this stream. */
  answered(r: DigestReply): void {
    if (r.op === "updated") {
      this.#unhashed -= r.bytes;
      this.returned?.(new Uint8Array(r.buffer));
      if (this.#unhashed <= MAX_UNHASHED_BYTES) for (const w of this.#waiters.splice(0)) w();
      return;
    }
    this.done(this.id);
    if (r.op === "digests") this.#result?.resolve(r.digests);
    else this.fail(new Error(`the digest thread failed: ${r.error}`));
  }

  fail(err: Error): void {
    this.#failure ??= err;
    for (const w of this.#waiters.splice(0)) w();
    this.#result?.reject(err);
  }
}

/** The digest thread, started on first use, keeping the process alive only while it hashes. */
export class DigestThread {
  #worker: Worker | undefined;
  #seq = 0;
  readonly #streams = new Map<number, ThreadStream>();

  /** A digester for a body of `expectedSize` bytes (undefined: unknown). */
  digester(
    algorithms: readonly ChecksumAlgorithm[],
    expectedSize: number | undefined,
    returned?: Returned,
  ): StreamDigester {
    if (expectedSize !== undefined && expectedSize < THREADED_DIGEST_MIN_BYTES)
      return localDigester(algorithms, returned);
    const worker = this.#start();
    const id = ++this.#seq;
    const stream = new ThreadStream(
      id,
      (req, transfer) => worker.postMessage(req, transfer),
      (done) => {
        // Idle, the thread keeps no process alive; a stream open keeps it running.
        if (this.#streams.delete(done) && this.#streams.size === 0) this.#worker?.unref();
      },
      returned,
    );
    if (this.#streams.size === 0) worker.ref();
    this.#streams.set(id, stream);
    worker.postMessage({ op: "open", id, algorithms } satisfies DigestRequest);
    return stream;
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(new URL("./digest-worker.js", import.meta.url), {
      // None of the process's flags: a thread refuses many of them given explicitly (`--input-type`
      // of a script given with -e, `--perf-basic-prof`…), and this one needs none.
      execArgv: [],
    });
    worker.on("message", (r: DigestReply) => this.#streams.get(r.id)?.answered(r));
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const s of this.#streams.values()) s.fail(err);
      this.#streams.clear();
    };
    worker.on("error", (err) => fail(err));
    worker.on("exit", (code) => fail(new Error(`the digest thread stopped (exit code ${code})`)));
    // After the listeners (adding one refs the thread): held only while a stream is open.
    worker.unref();
    this.#worker = worker;
    return worker;
  }
}
