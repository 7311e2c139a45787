import assert from "node:assert/strict";
import { createConnection, createServer, type Socket } from "node:net";
import { test } from "node:test";
import { loopbackPeerUid } from "./peer.js";

const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 200007        0 2 1 0 20 4 30 10 -1
   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1
`;

test("finds the uid that owns the connecting socket in the kernel's table", () => {
  // Port 8080 (1F90) is the server, 50000 (C350) the peer owned by uid 200007.
  assert.equal(loopbackPeerUid(8080, 50000, TABLE), 200007);
});

test("an unknown peer has no uid", () => {
  assert.equal(loopbackPeerUid(8080, 50001, TABLE), undefined);
  assert.equal(loopbackPeerUid(8081, 50000, TABLE), undefined);
});

test("reads the live table: a connection from this process is owned by this process's uid", async () => {
  const accepted = new Promise<Socket>((resolve) => {
    const server = createServer((s) => {
      resolve(s);
      server.close();
    });
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      createConnection(port, "127.0.0.1").on("connect", function (this: Socket) {
        this.end();
      });
    });
  });
  const socket = await accepted;
  const localPort = socket.localPort!;
  assert.equal(loopbackPeerUid(localPort, socket.remotePort!), process.getuid?.());
  socket.destroy();
});
