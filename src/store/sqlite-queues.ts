/**
 * Queues and their messages in SQLite (`QueuesRepo`, served through `SqliteStore`): tables
 * `queues`, `queue_messages` and `queue_dedup` of `sqlite-migrations.ts`'s QUEUES_MIGRATIONS.
 * What reads then writes is one transaction, begun IMMEDIATE (the write lock first, so that a
 * commit of the log thread in between cannot fail it), on the store's one connection: two
 * receives never claim the same message.
 */
import type Database from "better-sqlite3";
import type {
  NewMessage,
  QueueCounts,
  QueueRecord,
  ReceivedMessage,
  SendOutcome,
  StoredMessage,
} from "../services/queues/model.js";
import type { ChangeVisibilityResult, QueuesRepo, ReceiveOptions } from "../services/queues/repo.js";
import {
  attributesColumn,
  type DedupEntry,
  isFifoQueue,
  type MessageRow,
  newReceiptToken,
  parseReceiptHandle,
  planSend,
  type QueueRow,
  sequenceNumber,
  sourceQueueName,
  toMessage,
  toQueue,
  toReceived,
} from "./queues-row.js";
import { Statements } from "./sqlite-statements.js";

/** Rows a FIFO receive or a move reads at a time, walking a queue in order. */
const SCAN_PAGE_ROWS = 100;

const QUEUE_COLUMNS = "name, created_at, modified_at, attributes, tags";

export class SqliteQueuesRepo implements QueuesRepo {
  readonly #db: Database.Database;
  readonly #statements: Statements;

  /** `db` has foreign keys on: deleting a queue deletes its messages. */
  constructor(db: Database.Database) {
    this.#db = db;
    this.#statements = new Statements(db);
  }

  #prepare(sql: string): Database.Statement {
    return this.#statements.get(sql);
  }

  async createQueue(q: QueueRecord): Promise<boolean> {
    const inserted = this.#prepare(
      `INSERT INTO queues (name, created_at, modified_at, attributes, tags) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO NOTHING`,
    ).run(q.name, q.createdAt, q.modifiedAt, JSON.stringify(q.attributes), JSON.stringify(q.tags));
    return inserted.changes === 1;
  }

  async getQueue(name: string): Promise<QueueRecord | undefined> {
    const row = this.#prepare(`SELECT ${QUEUE_COLUMNS} FROM queues WHERE name = ?`).get(name) as
      | QueueRow
      | undefined;
    return row && toQueue(row);
  }

  async listQueues(o: { prefix?: string; after?: string; limit: number }): Promise<QueueRecord[]> {
    // substr, not LIKE: SQLite's LIKE ignores ASCII case and would read a prefix's _ and % as wildcards.
    const prefix = o.prefix ?? "";
    const rows = this.#prepare(
      `SELECT ${QUEUE_COLUMNS} FROM queues WHERE name > ? AND substr(name, 1, length(?)) = ?
         ORDER BY name LIMIT ?`,
    ).all(o.after ?? "", prefix, prefix, o.limit) as QueueRow[];
    return rows.map(toQueue);
  }

  async updateQueue(q: QueueRecord): Promise<boolean> {
    const updated = this.#prepare(
      "UPDATE queues SET modified_at = ?, attributes = ?, tags = ? WHERE name = ?",
    ).run(q.modifiedAt, JSON.stringify(q.attributes), JSON.stringify(q.tags), q.name);
    return updated.changes === 1;
  }

  async deleteQueue(name: string): Promise<boolean> {
    return this.#prepare("DELETE FROM queues WHERE name = ?").run(name).changes === 1;
  }

  async send(
    queueName: string,
    messages: readonly NewMessage[],
    now: number,
    dedupWindowMs: number,
  ): Promise<SendOutcome[]> {
    const db = this.#db;
    return db
      .transaction(() => {
        const queue = this.#prepare("SELECT last_sequence FROM queues WHERE name = ?").get(queueName) as
          | { last_sequence: number }
          | undefined;
        if (!queue) throw new Error(`cannot send to queue "${queueName}": there is no such queue`);
        const fifo = isFifoQueue(queueName);
        const seen = new Map<string, DedupEntry>();
        if (fifo) {
          this.#prepare("DELETE FROM queue_dedup WHERE queue_name = ? AND sent_at <= ?").run(
            queueName,
            now - dedupWindowMs,
          );
          const lookup = this.#prepare(
            "SELECT message_id, sequence_number FROM queue_dedup WHERE queue_name = ? AND deduplication_id = ?",
          );
          for (const { deduplicationId } of messages) {
            if (deduplicationId === undefined) continue;
            const first = lookup.get(queueName, deduplicationId) as
              | { message_id: string; sequence_number: string | null }
              | undefined;
            if (first)
              seen.set(deduplicationId, {
                messageId: first.message_id,
                sequenceNumber: first.sequence_number ?? undefined,
              });
          }
        }
        const plan = planSend(fifo, messages, queue.last_sequence, seen);
        const insert = this.#prepare(
          `INSERT INTO queue_messages (queue_name, id, body, md5_of_body, attributes, md5_of_attributes,
           trace_header, sent_at, visible_at, group_id, deduplication_id, sequence_number)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        const remember = this.#prepare(
          `INSERT INTO queue_dedup (queue_name, deduplication_id, message_id, sequence_number, sent_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (queue_name, deduplication_id) DO UPDATE SET message_id = excluded.message_id,
           sequence_number = excluded.sequence_number, sent_at = excluded.sent_at`,
        );
        for (const { message: m, sequenceNumber } of plan.stored) {
          insert.run(
            queueName,
            m.id,
            m.body,
            m.md5OfBody,
            attributesColumn(m.attributes),
            m.md5OfAttributes ?? null,
            m.traceHeader ?? null,
            now,
            m.visibleAt,
            m.groupId ?? null,
            m.deduplicationId ?? null,
            sequenceNumber ?? null,
          );
          if (fifo && m.deduplicationId !== undefined)
            remember.run(queueName, m.deduplicationId, m.id, sequenceNumber ?? null, now);
        }
        if (plan.lastSequence !== queue.last_sequence)
          this.#prepare("UPDATE queues SET last_sequence = ? WHERE name = ?").run(
            plan.lastSequence,
            queueName,
          );
        return plan.outcomes;
      })
      .immediate();
  }

  /**
   * Walks the queue's visible messages in order (FIFO: every message, to find each group's
   * head), moving those past the redrive's receive limit and claiming the others, until `max`
   * are claimed. A claimed message may stay visible (visibility 0): the walk goes by `seq`, so
   * it is never read twice.
   */
  async receive(queueName: string, o: ReceiveOptions): Promise<ReceivedMessage[]> {
    const db = this.#db;
    return db
      .transaction(() => {
        this.#prepare("DELETE FROM queue_messages WHERE queue_name = ? AND sent_at < ?").run(
          queueName,
          o.expiredBefore,
        );
        // A dead-letter queue deleted since the policy was set: the message is handed out as if there were none.
        const redrive = o.redrive && this.#exists(o.redrive.deadLetterQueue) ? o.redrive : undefined;
        const claim = this.#prepare(
          `UPDATE queue_messages SET visible_at = ?, receive_count = receive_count + 1,
           first_received_at = coalesce(first_received_at, ?), receipt_token = ?
         WHERE seq = ? RETURNING *`,
        );
        // FIFO: a group with a message in flight hands out nothing; one whose next message is not
        // visible yet, nothing after it.
        const blocked = new Set<string>();
        if (o.fifo) {
          const inFlight = this.#prepare(
            `SELECT DISTINCT group_id FROM queue_messages
             WHERE queue_name = ? AND visible_at > ? AND receive_count > 0 AND group_id IS NOT NULL`,
          ).all(queueName, o.now) as { group_id: string }[];
          for (const r of inFlight) blocked.add(r.group_id);
        }
        const page = o.fifo
          ? this.#prepare(
              "SELECT * FROM queue_messages WHERE queue_name = ? AND seq > ? ORDER BY seq LIMIT ?",
            )
          : this.#prepare(
              "SELECT * FROM queue_messages WHERE queue_name = ? AND visible_at <= ? AND seq > ? ORDER BY seq LIMIT ?",
            );
        const received: ReceivedMessage[] = [];
        let after = 0;
        while (received.length < o.max) {
          const rows = (
            o.fifo
              ? page.all(queueName, after, SCAN_PAGE_ROWS)
              : page.all(queueName, o.now, after, o.max - received.length)
          ) as MessageRow[];
          if (rows.length === 0) break;
          for (const row of rows) {
            after = row.seq;
            if (o.fifo) {
              if (row.visible_at > o.now) {
                if (row.group_id !== null) blocked.add(row.group_id);
                continue;
              }
              if (row.group_id !== null && blocked.has(row.group_id)) continue;
            }
            if (redrive && row.receive_count >= redrive.maxReceiveCount) {
              this.#move(row.seq, redrive.deadLetterQueue, o.now, redrive.sourceArn);
              continue;
            }
            const token = newReceiptToken();
            received.push(toReceived(claim.get(o.now + o.visibilityMs, o.now, token, row.seq) as MessageRow));
            if (received.length === o.max) break;
          }
        }
        return received;
      })
      .immediate();
  }

  async deleteMessage(queueName: string, receiptHandle: string): Promise<boolean> {
    return this.#deleteOne(queueName, receiptHandle);
  }

  async deleteMessages(queueName: string, receiptHandles: readonly string[]): Promise<boolean[]> {
    return this.#db.transaction(() => receiptHandles.map((h) => this.#deleteOne(queueName, h))).immediate();
  }

  #deleteOne(queueName: string, receiptHandle: string): boolean {
    const handle = parseReceiptHandle(receiptHandle);
    if (!handle) return false;
    const deleted = this.#prepare(
      "DELETE FROM queue_messages WHERE queue_name = ? AND id = ? AND receipt_token = ?",
    ).run(queueName, handle.id, handle.token);
    return deleted.changes === 1;
  }

  async changeVisibility(
    queueName: string,
    receiptHandle: string,
    visibleAt: number,
    now: number,
  ): Promise<ChangeVisibilityResult> {
    const handle = parseReceiptHandle(receiptHandle);
    if (!handle) return "unknown-receipt";
    const db = this.#db;
    return db
      .transaction((): ChangeVisibilityResult => {
        const row = this.#prepare(
          "SELECT seq, visible_at FROM queue_messages WHERE queue_name = ? AND id = ? AND receipt_token = ?",
        ).get(queueName, handle.id, handle.token) as { seq: number; visible_at: number } | undefined;
        if (!row) return "unknown-receipt";
        if (row.visible_at <= now) return "not-in-flight";
        this.#prepare("UPDATE queue_messages SET visible_at = ? WHERE seq = ?").run(visibleAt, row.seq);
        return "changed";
      })
      .immediate();
  }

  async purge(queueName: string): Promise<number> {
    return this.#prepare("DELETE FROM queue_messages WHERE queue_name = ?").run(queueName).changes;
  }

  async counts(queueName: string, now: number): Promise<QueueCounts> {
    const row = this.#prepare(
      `SELECT count(*) FILTER (WHERE visible_at <= ?) AS visible,
                count(*) FILTER (WHERE visible_at > ? AND receive_count > 0) AS in_flight,
                count(*) FILTER (WHERE visible_at > ? AND receive_count = 0) AS delayed
         FROM queue_messages WHERE queue_name = ?`,
    ).get(now, now, now, queueName) as { visible: number; in_flight: number; delayed: number };
    return { visible: row.visible, inFlight: row.in_flight, delayed: row.delayed };
  }

  async nextVisibleAt(queueName: string, now: number): Promise<number | undefined> {
    const row = this.#prepare(
      "SELECT min(visible_at) AS at FROM queue_messages WHERE queue_name = ? AND visible_at > ?",
    ).get(queueName, now) as { at: number | null };
    return row.at ?? undefined;
  }

  /** Walks `from` oldest first; a message whose destination is not a queue stays, and is not counted. */
  async moveMessages(
    from: string,
    to: string | undefined,
    limit: number,
    now: number,
  ): Promise<StoredMessage[]> {
    const db = this.#db;
    return db
      .transaction(() => {
        const page = this.#prepare(
          "SELECT seq, dead_letter_source_arn FROM queue_messages WHERE queue_name = ? AND seq > ? ORDER BY seq LIMIT ?",
        );
        const moved: StoredMessage[] = [];
        let after = 0;
        while (moved.length < limit) {
          const rows = page.all(from, after, SCAN_PAGE_ROWS) as Pick<
            MessageRow,
            "seq" | "dead_letter_source_arn"
          >[];
          if (rows.length === 0) break;
          for (const row of rows) {
            after = row.seq;
            const source = row.dead_letter_source_arn;
            const destination = to ?? (source === null ? undefined : sourceQueueName(source));
            if (destination === undefined || !this.#exists(destination)) continue;
            moved.push(toMessage(this.#move(row.seq, destination, now, null)));
            if (moved.length === limit) break;
          }
        }
        return moved;
      })
      .immediate();
  }

  async expire(queueName: string, before: number): Promise<number> {
    return this.#prepare("DELETE FROM queue_messages WHERE queue_name = ? AND sent_at < ?").run(
      queueName,
      before,
    ).changes;
  }

  #exists(queueName: string): boolean {
    return this.#prepare("SELECT 1 FROM queues WHERE name = ?").get(queueName) !== undefined;
  }

  /**
   * Puts the message at the end of `to`, as a new arrival there: visible at `now`, never
   * received, with `to`'s next sequence number if it is FIFO. Runs inside the caller's transaction.
   */
  #move(seq: number, to: string, now: number, deadLetterSourceArn: string | null): MessageRow {
    let sequence: string | null = null;
    if (isFifoQueue(to)) {
      const row = this.#prepare(
        "UPDATE queues SET last_sequence = last_sequence + 1 WHERE name = ? RETURNING last_sequence",
      ).get(to) as { last_sequence: number };
      sequence = sequenceNumber(row.last_sequence);
    }
    return this.#prepare(
      `UPDATE queue_messages SET seq = (SELECT max(seq) + 1 FROM queue_messages), queue_name = ?,
           visible_at = ?, receive_count = 0, first_received_at = NULL, receipt_token = NULL,
           dead_letter_source_arn = ?, sequence_number = ?
         WHERE seq = ? RETURNING *`,
    ).get(to, now, deadLetterSourceArn, sequence, seq) as MessageRow;
  }
}
