import assert from "node:assert/strict";
import { test } from "node:test";
import Database from "better-sqlite3";
import { Statements } from "./sqlite-statements.js";

function table() {
  const db = new Database(":memory:");
  db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
  const statements = new Statements(db);
  const insert = (k: string, v: number) => () => {
    statements.get("INSERT INTO t (k, v) VALUES (?, ?)").run(k, v);
    return k;
  };
  const rows = () => db.prepare("SELECT k, v FROM t ORDER BY k").all();
  return { db, statements, insert, rows };
}

test("writes of one turn share a commit; one that throws is rolled back and rejects alone", async () => {
  const { db, statements, insert, rows } = table();
  const a = statements.writeInTurn(insert("a", 1));
  const b = statements.writeInTurn(() => {
    insert("b", 2)();
    throw new Error("b refused after writing");
  });
  const dup = statements.writeInTurn(insert("a", 3)); // the primary key is taken by a
  const c = statements.writeInTurn(insert("c", 4));
  assert.deepEqual(rows(), [], "nothing is written before the turn ends");
  assert.equal(await a, "a");
  await assert.rejects(b, /b refused after writing/);
  await assert.rejects(dup, /UNIQUE constraint failed/);
  assert.equal(await c, "c");
  assert.deepEqual(rows(), [
    { k: "a", v: 1 },
    { k: "c", v: 4 },
  ]);
  // A later turn is a transaction of its own, and sees what the first committed.
  const later = statements.writeInTurn(() => statements.get("SELECT count(*) AS n FROM t").get());
  assert.deepEqual(await later, { n: 2 });
  db.close();
});

test("when the shared commit fails every write of the turn rejects and none is kept", async () => {
  const { db, statements, insert, rows } = table();
  // A deferred foreign key is checked at COMMIT: an orphan fails the whole transaction there.
  db.pragma("foreign_keys = ON");
  db.exec(`CREATE TABLE parent (id TEXT PRIMARY KEY);
    CREATE TABLE child (parent TEXT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`);
  const orphan = () => statements.get("INSERT INTO child (parent) VALUES ('none')").run().changes;
  const writes = [statements.writeInTurn(insert("a", 1)), statements.writeInTurn(orphan)];
  for (const w of writes) await assert.rejects(w, /FOREIGN KEY constraint failed/);
  assert.deepEqual(rows(), []);
  assert.equal(db.inTransaction, false);
  db.close();
});
