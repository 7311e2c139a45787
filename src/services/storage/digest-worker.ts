/**
 * The thread that hashes large bodies (`digest-thread.ts`): MD5 and the checksums asked for, one
 * `Digester` per stream, fed in order; it answers how many bytes it took after each piece (for
 * the sender's bound on what waits) and the digests at the end.
 */
import { parentPort } from "node:worker_threads";
import { Digester } from "./checksums.js";
import type { DigestReply, DigestRequest } from "./digest-thread.js";

const streams = new Map<number, Digester>();
const port = parentPort!;
const reply = (r: DigestReply) => port.postMessage(r);

port.on("message", (req: DigestRequest) => {
  switch (req.op) {
    case "open":
      streams.set(req.id, new Digester(req.algorithms));
      return;
    case "update": {
      const digester = streams.get(req.id);
      if (digester === undefined) return;
      digester.update(req.bytes);
      // Its buffer goes back, for the writer to fill again.
      const buffer = req.bytes.buffer as ArrayBuffer;
      const updated: DigestReply = { op: "updated", id: req.id, bytes: req.bytes.byteLength, buffer };
      port.postMessage(updated, [buffer]);
      return;
    }
    case "digest": {
      const digester = streams.get(req.id);
      streams.delete(req.id);
      if (digester === undefined) return reply({ op: "failed", id: req.id, error: "no such stream" });
      digester.digest().then(
        (digests) => reply({ op: "digests", id: req.id, digests }),
        (err: unknown) => reply({ op: "failed", id: req.id, error: String(err) }),
      );
      return;
    }
    case "drop":
      streams.delete(req.id);
  }
});
