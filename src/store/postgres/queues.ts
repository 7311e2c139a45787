/**
 * Queues and their messages in PostgreSQL (`QueuesRepo`). A standard queue's receive claims with
 * `FOR UPDATE SKIP LOCKED`, so receivers on several connections or platforms take disjoint
 * messages. A FIFO queue's receive, and a send to it, first lock the queue's row: FIFO receives
 * of one queue take turns (a group's order depends on what the last one claimed), and its
 * sequence numbers and deduplication ids are given out one send at a time. Queue rows are
 * locked before messages, and several in byte order of their names, so that these locks cannot
 * deadlock one another.
 */
import type { PendingQuery, Row } from "postgres";
import type {
  NewMessage,
  QueueCounts,
  QueueRecord,
  ReceivedMessage,
  SendOutcome,
  StoredMessage,
} from "../../services/queues/model.js";
import type { ChangeVisibilityResult, QueuesRepo, ReceiveOptions } from "../../services/queues/repo.js";
import {
  attributesColumn,
  type DedupEntry,
  isFifoQueue,
  type MessageRow,
  parseReceiptHandle,
  planSend,
  type QueueRow,
  sequenceNumber,
  toMessage,
  toQueue,
  toReceived,
} from "../queues-row.js";
import type { Sql, Tx } from "./connect.js";
import type { ModuleMigrations } from "./migrate.js";

/**
 * References no other module's tables; a queue's messages and deduplication ids go with it. Names
 * collate as bytes ("C"), so queues list in SQLite's order. `seq` orders a queue's messages (a
 * moved message gets a new one, at the end of its new queue).
 */
export const QUEUES_MIGRATIONS: ModuleMigrations = {
  module: "queues",
  steps: [
    `CREATE TABLE queues (
       name text COLLATE "C" PRIMARY KEY,
       created_at bigint NOT NULL,
       modified_at bigint NOT NULL,
       attributes text NOT NULL,
       tags text NOT NULL,
       last_sequence bigint NOT NULL DEFAULT 0
     );
     CREATE SEQUENCE queue_message_seq;
     CREATE TABLE queue_messages (
       seq bigint PRIMARY KEY DEFAULT nextval('queue_message_seq'),
       queue_name text COLLATE "C" NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
       id text COLLATE "C" NOT NULL UNIQUE,
       body text NOT NULL,
       md5_of_body text NOT NULL,
       attributes text NOT NULL,
       md5_of_attributes text,
       trace_header text,
       sent_at bigint NOT NULL,
       visible_at bigint NOT NULL,
       receive_count integer NOT NULL DEFAULT 0,
       first_received_at bigint,
       receipt_token text,
       group_id text COLLATE "C",
       deduplication_id text,
       sequence_number text,
       dead_letter_source_arn text
     );
     ALTER SEQUENCE queue_message_seq OWNED BY queue_messages.seq;
     CREATE INDEX queue_messages_by_queue ON queue_messages (queue_name, seq);
     CREATE INDEX queue_messages_by_visibility ON queue_messages (queue_name, visible_at);
     CREATE INDEX queue_messages_by_age ON queue_messages (queue_name, sent_at);
     -- A FIFO deduplication id's first message, for the deduplication window (deleted ones' too).
     CREATE TABLE queue_dedup (
       queue_name text COLLATE "C" NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
       deduplication_id text COLLATE "C" NOT NULL,
       message_id text NOT NULL,
       sequence_number text,
       sent_at bigint NOT NULL,
       PRIMARY KEY (queue_name, deduplication_id)
     );`,
  ],
};

/** A message a receive picked: claimed (a new receipt token set), or past its receive limit. */
type PickedRow = MessageRow & { dead: boolean };

interface DedupRow {
  deduplication_id: string;
  message_id: string;
  sequence_number: string | null;
}

export class PostgresQueuesRepo implements QueuesRepo {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async createQueue(q: QueueRecord): Promise<boolean> {
    const inserted = await this.#sql`INSERT INTO queues (name, created_at, modified_at, attributes, tags)
      VALUES (${q.name}, ${q.createdAt}, ${q.modifiedAt}, ${JSON.stringify(q.attributes)}, ${JSON.stringify(q.tags)})
      ON CONFLICT (name) DO NOTHING`;
    return inserted.count === 1;
  }

  async getQueue(name: string): Promise<QueueRecord | undefined> {
    const [row] = await this.#sql<QueueRow[]>`SELECT name, created_at, modified_at, attributes, tags
      FROM queues WHERE name = ${name}`;
    return row && toQueue(row);
  }

  async listQueues(o: { prefix?: string; after?: string; limit: number }): Promise<QueueRecord[]> {
    const pattern = `${(o.prefix ?? "").replace(/[\\%_]/g, "\\$&")}%`;
    const rows = await this.#sql<QueueRow[]>`SELECT name, created_at, modified_at, attributes, tags
      FROM queues WHERE name > ${o.after ?? ""} AND name LIKE ${pattern} ESCAPE '\\'
      ORDER BY name LIMIT ${o.limit}`;
    return rows.map(toQueue);
  }

  async updateQueue(q: QueueRecord): Promise<boolean> {
    const updated = await this.#sql`UPDATE queues SET modified_at = ${q.modifiedAt},
        attributes = ${JSON.stringify(q.attributes)}, tags = ${JSON.stringify(q.tags)}
      WHERE name = ${q.name}`;
    return updated.count === 1;
  }

  async deleteQueue(name: string): Promise<boolean> {
    const deleted = await this.#sql`DELETE FROM queues WHERE name = ${name}`;
    return deleted.count === 1;
  }

  async send(
    queueName: string,
    messages: readonly NewMessage[],
    now: number,
    dedupWindowMs: number,
  ): Promise<SendOutcome[]> {
    const fifo = isFifoQueue(queueName);
    return this.#sql.begin(async (tx) => {
      // FIFO: the row lock orders concurrent sends, so sequence numbers and duplicates are decided once.
      const [queue] = fifo
        ? await tx<{ last_sequence: number }[]>`SELECT last_sequence FROM queues
            WHERE name = ${queueName} FOR NO KEY UPDATE`
        : await tx<{ last_sequence: number }[]>`SELECT last_sequence FROM queues WHERE name = ${queueName}`;
      if (!queue) throw new Error(`cannot send to queue "${queueName}": there is no such queue`);
      const seen = new Map<string, DedupEntry>();
      const dedupIds = messages.flatMap((m) => (m.deduplicationId === undefined ? [] : [m.deduplicationId]));
      if (fifo && dedupIds.length > 0) {
        await tx`DELETE FROM queue_dedup WHERE queue_name = ${queueName} AND sent_at <= ${now - dedupWindowMs}`;
        const firsts = await tx<DedupRow[]>`SELECT deduplication_id, message_id, sequence_number
          FROM queue_dedup
          WHERE queue_name = ${queueName} AND deduplication_id = ANY(${tx.array(dedupIds)}::text[])`;
        for (const f of firsts)
          seen.set(f.deduplication_id, {
            messageId: f.message_id,
            sequenceNumber: f.sequence_number ?? undefined,
          });
      }
      const plan = planSend(fifo, messages, queue.last_sequence, seen);
      if (plan.stored.length === 0) return plan.outcomes;
      // One multi-row INSERT: its rows take their seq in the order given.
      const rows = plan.stored.map(({ message: m, sequenceNumber }) => ({
        queue_name: queueName,
        id: m.id,
        body: m.body,
        md5_of_body: m.md5OfBody,
        attributes: attributesColumn(m.attributes),
        md5_of_attributes: m.md5OfAttributes ?? null,
        trace_header: m.traceHeader ?? null,
        sent_at: now,
        visible_at: m.visibleAt,
        group_id: m.groupId ?? null,
        deduplication_id: m.deduplicationId ?? null,
        sequence_number: sequenceNumber ?? null,
      }));
      await tx`INSERT INTO queue_messages ${tx(rows)}`;
      if (!fifo) return plan.outcomes;
      const remembered = plan.stored.flatMap(({ message: m, sequenceNumber }) =>
        m.deduplicationId === undefined
          ? []
          : [
              {
                queue_name: queueName,
                deduplication_id: m.deduplicationId,
                message_id: m.id,
                sequence_number: sequenceNumber ?? null,
                sent_at: now,
              },
            ],
      );
      if (remembered.length > 0) await tx`INSERT INTO queue_dedup ${tx(remembered)}`;
      await tx`UPDATE queues SET last_sequence = ${plan.lastSequence} WHERE name = ${queueName}`;
      return plan.outcomes;
    });
  }

  async receive(queueName: string, o: ReceiveOptions): Promise<ReceivedMessage[]> {
    if (o.max <= 0) return [];
    return this.#sql.begin(async (tx) => {
      const dlq = o.redrive?.deadLetterQueue;
      if (o.fifo) {
        // The queue, and a FIFO dead-letter queue (its sequence numbers), in byte order of names.
        const names = dlq !== undefined && isFifoQueue(dlq) ? [queueName, dlq] : [queueName];
        await tx`SELECT name FROM queues WHERE name = ANY(${tx.array(names)}::text[])
          ORDER BY name FOR NO KEY UPDATE`;
      }
      // Skipping rows a claim or a delete holds: those are not this receive's to hand out.
      await tx`DELETE FROM queue_messages WHERE seq IN (SELECT seq FROM queue_messages
        WHERE queue_name = ${queueName} AND sent_at < ${o.expiredBefore} FOR UPDATE SKIP LOCKED)`;
      // A dead-letter queue deleted since the policy was set: the message is handed out as if there were none.
      const [dlqRow] = dlq === undefined ? [] : await tx`SELECT 1 FROM queues WHERE name = ${dlq}`;
      const redrive = dlqRow ? o.redrive : undefined;
      const picked = o.fifo
        ? await claimFifo(tx, queueName, o, redrive?.maxReceiveCount)
        : await claimStandard(tx, queueName, o, redrive?.maxReceiveCount);
      const dead = picked.filter((r) => r.dead).map((r) => r.seq);
      if (redrive && dead.length > 0)
        await moveRows(tx, dead, redrive.deadLetterQueue, o.now, redrive.sourceArn);
      return picked
        .filter((r) => !r.dead)
        .sort((a, b) => a.seq - b.seq)
        .map(toReceived);
    });
  }

  async deleteMessage(queueName: string, receiptHandle: string): Promise<boolean> {
    return (await this.deleteMessages(queueName, [receiptHandle]))[0]!;
  }

  async deleteMessages(queueName: string, receiptHandles: readonly string[]): Promise<boolean[]> {
    const handles = receiptHandles.map(parseReceiptHandle);
    const valid = handles.filter((h) => h !== undefined);
    if (valid.length === 0) return handles.map(() => false);
    // One statement: the pairs of (id, token) as two arrays, unnested side by side.
    const deleted = await this.#sql<{ id: string; receipt_token: string }[]>`DELETE FROM queue_messages m
      USING unnest(${valid.map((h) => h.id)}::text[], ${valid.map((h) => h.token)}::text[]) AS h(id, token)
      WHERE m.queue_name = ${queueName} AND m.id = h.id AND m.receipt_token = h.token
      RETURNING m.id, m.receipt_token`;
    const gone = new Set(deleted.map((r) => `${r.id}\u0000${r.receipt_token}`));
    // A handle named twice deletes once: the first of them reports it.
    return handles.map((h) => h !== undefined && gone.delete(`${h.id}\u0000${h.token}`));
  }

  async changeVisibility(
    queueName: string,
    receiptHandle: string,
    visibleAt: number,
    now: number,
  ): Promise<ChangeVisibilityResult> {
    const handle = parseReceiptHandle(receiptHandle);
    if (!handle) return "unknown-receipt";
    const [row] = await this.#sql<{ changed: boolean }[]>`
      WITH target AS (
        SELECT seq, visible_at FROM queue_messages
        WHERE queue_name = ${queueName} AND id = ${handle.id} AND receipt_token = ${handle.token}
        FOR UPDATE
      ),
      changed AS (
        UPDATE queue_messages m SET visible_at = ${visibleAt}
        FROM target WHERE m.seq = target.seq AND target.visible_at > ${now}
        RETURNING m.seq
      )
      SELECT EXISTS (SELECT 1 FROM changed) AS changed FROM target`;
    if (!row) return "unknown-receipt";
    return row.changed ? "changed" : "not-in-flight";
  }

  async purge(queueName: string): Promise<number> {
    const deleted = await this.#sql`DELETE FROM queue_messages WHERE queue_name = ${queueName}`;
    return deleted.count;
  }

  async counts(queueName: string, now: number): Promise<QueueCounts> {
    const [row] = await this.#sql<QueueCounts[]>`SELECT
        count(*) FILTER (WHERE visible_at <= ${now})::integer AS visible,
        count(*) FILTER (WHERE visible_at > ${now} AND receive_count > 0)::integer AS "inFlight",
        count(*) FILTER (WHERE visible_at > ${now} AND receive_count = 0)::integer AS delayed
      FROM queue_messages WHERE queue_name = ${queueName}`;
    return { visible: row?.visible ?? 0, inFlight: row?.inFlight ?? 0, delayed: row?.delayed ?? 0 };
  }

  async nextVisibleAt(queueName: string, now: number): Promise<number | undefined> {
    const [row] = await this.#sql<{ at: number | null }[]>`SELECT min(visible_at) AS at FROM queue_messages
      WHERE queue_name = ${queueName} AND visible_at > ${now}`;
    return row?.at ?? undefined;
  }

  /**
   * The oldest messages of `from` whose destination is a queue (those without one stay, and are
   * not counted), skipping any a receive holds; the FIFO destinations' rows are locked first.
   */
  async moveMessages(
    from: string,
    to: string | undefined,
    limit: number,
    now: number,
  ): Promise<StoredMessage[]> {
    if (limit <= 0) return [];
    return this.#sql.begin(async (tx) => {
      // Each message's own source queue (NULL, and no join, if it has none), or the one named.
      const destination =
        to === undefined ? tx`substring(m.dead_letter_source_arn from '[^:]*$')` : tx`${to}::text`;
      const destinations = await tx<{ name: string }[]>`SELECT DISTINCT q.name FROM queue_messages m
        JOIN queues q ON q.name = ${destination} WHERE m.queue_name = ${from}`;
      const fifo = destinations.map((d) => d.name).filter(isFifoQueue);
      if (fifo.length > 0)
        await tx`SELECT name FROM queues WHERE name = ANY(${tx.array(fifo)}::text[]) ORDER BY name FOR NO KEY UPDATE`;
      const picked = await tx<{ seq: number; name: string }[]>`SELECT m.seq, q.name FROM queue_messages m
        JOIN queues q ON q.name = ${destination}
        WHERE m.queue_name = ${from}
        ORDER BY m.seq LIMIT ${limit}
        FOR UPDATE OF m SKIP LOCKED`;
      const moved: MessageRow[] = [];
      for (const name of [...new Set(picked.map((p) => p.name))].sort()) {
        const seqs = picked.filter((p) => p.name === name).map((p) => p.seq);
        moved.push(...(await moveRows(tx, seqs, name, now, null)));
      }
      return moved.sort((a, b) => a.seq - b.seq).map(toMessage);
    });
  }

  async expire(queueName: string, before: number): Promise<number> {
    const deleted = await this.#sql`DELETE FROM queue_messages
      WHERE queue_name = ${queueName} AND sent_at < ${before}`;
    return deleted.count;
  }
}

/**
 * Claims the picked rows that are not past their receive limit, in the statement that picks
 * them (`picked`: a CTE of `seq` and `dead`), and returns those with the dead ones beside them.
 */
function claimPicked(
  tx: Tx,
  picked: PendingQuery<Row[]>,
  queueName: string,
  o: ReceiveOptions,
): Promise<PickedRow[]> {
  return tx<PickedRow[]>`WITH ${picked},
    claimed AS (
      UPDATE queue_messages m SET visible_at = ${o.now + o.visibilityMs}, receive_count = m.receive_count + 1,
        first_received_at = COALESCE(m.first_received_at, ${o.now}),
        receipt_token = replace(gen_random_uuid()::text, '-', '')
      FROM picked WHERE m.seq = picked.seq AND m.queue_name = ${queueName} AND NOT picked.dead
      RETURNING m.*
    )
    SELECT claimed.*, false AS dead FROM claimed
    UNION ALL
    SELECT m.*, true AS dead FROM queue_messages m JOIN picked ON m.seq = picked.seq WHERE picked.dead`;
}

/**
 * Standard queue: the oldest visible messages nobody else holds, locked as picked. The dead
 * ones do not count towards `max`: while some were picked, the next ones after them are picked.
 */
async function claimStandard(
  tx: Tx,
  queueName: string,
  o: ReceiveOptions,
  maxReceiveCount: number | undefined,
): Promise<PickedRow[]> {
  const all: PickedRow[] = [];
  let claimed = 0;
  let after = 0;
  while (claimed < o.max) {
    const remaining = o.max - claimed;
    const picked = tx`picked AS (
      SELECT seq, COALESCE(receive_count >= ${maxReceiveCount ?? null}::integer, false) AS dead
      FROM queue_messages
      WHERE queue_name = ${queueName} AND visible_at <= ${o.now} AND seq > ${after}
      ORDER BY seq LIMIT ${remaining}
      FOR UPDATE SKIP LOCKED
    )`;
    const rows = await claimPicked(tx, picked, queueName, o);
    all.push(...rows);
    claimed += rows.filter((r) => !r.dead).length;
    if (rows.length < remaining) break;
    after = Math.max(...rows.map((r) => r.seq));
  }
  return all;
}

/**
 * FIFO queue (its row locked): a group with a message in flight is skipped, and one whose next
 * message is not visible yet hands out nothing from it on; of the rest, oldest first, up to
 * `max` claimed, the dead ones met before the last of them picked too.
 */
function claimFifo(
  tx: Tx,
  queueName: string,
  o: ReceiveOptions,
  maxReceiveCount: number | undefined,
): Promise<PickedRow[]> {
  const picked = tx`blocked AS (
      SELECT group_id, min(CASE WHEN receive_count > 0 THEN 0 ELSE seq END) AS from_seq
      FROM queue_messages WHERE queue_name = ${queueName} AND visible_at > ${o.now} AND group_id IS NOT NULL
      GROUP BY group_id
    ),
    eligible AS (
      SELECT m.seq, COALESCE(m.receive_count >= ${maxReceiveCount ?? null}::integer, false) AS dead
      FROM queue_messages m LEFT JOIN blocked b ON b.group_id = m.group_id
      WHERE m.queue_name = ${queueName} AND m.visible_at <= ${o.now}
        AND (b.group_id IS NULL OR m.seq < b.from_seq)
    ),
    numbered AS (
      SELECT seq, dead, count(*) FILTER (WHERE NOT dead) OVER (ORDER BY seq) AS claimed_by_then FROM eligible
    ),
    picked AS (
      SELECT seq, dead FROM numbered
      WHERE claimed_by_then < ${o.max} OR (claimed_by_then = ${o.max} AND NOT dead)
    )`;
  return claimPicked(tx, picked, queueName, o);
}

/**
 * Puts the messages at the end of `to`, in their order, as new arrivals there: visible at
 * `now`, never received, with `to`'s next sequence numbers if it is FIFO.
 */
async function moveRows(
  tx: Tx,
  seqs: readonly number[],
  to: string,
  now: number,
  deadLetterSourceArn: string | null,
): Promise<MessageRow[]> {
  const old = [...seqs].sort((a, b) => a - b);
  const fresh = await tx<{ seq: number }[]>`SELECT nextval('queue_message_seq') AS seq
    FROM generate_series(1, ${old.length})`;
  const next = fresh.map((r) => r.seq).sort((a, b) => a - b);
  let sequences: string[] = [];
  if (isFifoQueue(to)) {
    const [q] = await tx<{ last_sequence: number }[]>`UPDATE queues
      SET last_sequence = last_sequence + ${old.length} WHERE name = ${to} RETURNING last_sequence`;
    if (!q) throw new Error(`cannot move messages to queue "${to}": there is no such queue`);
    const first = q.last_sequence - old.length + 1;
    sequences = old.map((_, i) => sequenceNumber(first + i));
  }
  return tx<MessageRow[]>`UPDATE queue_messages m
    SET seq = r.new_seq, queue_name = ${to}, visible_at = ${now},
      receive_count = 0, first_received_at = NULL, receipt_token = NULL,
      dead_letter_source_arn = ${deadLetterSourceArn}::text,
      sequence_number = (${tx.array(sequences)}::text[])[r.ord]
    FROM unnest(${tx.array(old)}::bigint[], ${tx.array(next)}::bigint[]) WITH ORDINALITY AS r(old_seq, new_seq, ord)
    WHERE m.seq = r.old_seq
    RETURNING m.*`;
}
