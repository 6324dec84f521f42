import { randomUUID } from "node:crypto";
import {
  CHANNEL_CREATED,
  CHANNEL_STATUS,
  type OrderActionName,
  type OrderJson,
  type ValidOrderRequest,
  TRANSITIONS,
  orderFromJson,
  orderJsonPrefix,
  orderJsonWithStatus,
  orderTotal,
  statusName,
} from "@orderstream/domain";
import { type Order, OrderStatus } from "@orderstream/proto";
import { ORDER_CREATE_LUA, ORDER_TRANSITION_LUA } from "./event-scripts.js";
import { EventWriter, type PendingEvents, pendingEventsOf, writerDeadline } from "./event-writer.js";
import { type HistoryOptions, DEFAULT_HISTORY, newEpoch } from "./history-options.js";
import { firehoseChannel, historyKey, idempotencyKey, jobDataKey, jobOutboxKey, metaKey, orderKey, pendingKey, pubsubChannel } from "./keys.js";
import { Partitioning } from "./partitions.js";
import { ReplicationUnconfirmedError, guardRedis } from "./redis-errors.js";
import type { RedisConnection } from "./redis-connection.js";
import { TickBatcher } from "./tick-batcher.js";

/** Result of {@link OrderStore.create}. */
export interface CreateResult {
  order: Order;
  /** False when an idempotency key returned an order created earlier. */
  created: boolean;
}

/** Result of {@link OrderStore.transition}. */
export type TransitionResult =
  | { ok: true; order: Order; from: OrderStatus }
  | { ok: false; code: "not_found" }
  | { ok: false; code: "invalid_transition"; order: Order };

/** Orders created together in one partition: one job-outbox entry, one job (id = batchId). */
export interface StoredBatch {
  partition: number;
  batchId: string;
  orderIds: string[];
}

/** Options of {@link OrderStore}. */
export interface OrderStoreOptions {
  history?: HistoryOptions;
  /** How long an idempotency key remembers its order. */
  idempotencyTtlMs?: number;
  /** Use SPUBLISH (Redis Cluster sharded pub/sub) instead of PUBLISH. */
  sharded?: boolean;
  partitions?: Partitioning;
  /** How long a writer holds its events before the repair sweep may take them over. */
  leaseMs?: number;
  /** Called once per stored batch of new orders: its job is to be queued. */
  onBatchStored?: (batch: StoredBatch) => void;
  /** Reports background failures (acks, clean-up); the repair sweep covers them. */
  onError?: (err: unknown, op: string) => void;
  /**
   * REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT_MS: creates and transitions resolve only after `WAIT`
   * confirmed them on this many replicas, or reject with {@link ReplicationUnconfirmedError}. One
   * node or Sentinel only (WAIT must run on the connection that wrote). Off when absent.
   */
  waitReplicas?: { replicas: number; timeoutMs: number };
}

/** Most orders one create or transition script carries. */
export const MAX_ORDERS_PER_SCRIPT = 100;

/** Most channel-append calls of creates running in the background at once (backpressure). */
const MAX_BACKGROUND_APPENDS = 64;

/** Default lease of a writer on the events it emitted (EVENT_LEASE_MS). */
export const DEFAULT_LEASE_MS = 5000;

type StoreConn = RedisConnection & {
  osOrderCreate(numKeys: number, ...args: (string | number)[]): Promise<unknown[]>;
  osOrderTransition(numKeys: number, ...args: (string | number)[]): Promise<unknown[]>;
};

interface CreateItem {
  req: ValidOrderRequest;
  idemKey: string | undefined;
}

interface TransitionItem {
  orderId: string;
  action: OrderActionName;
}

function orderFrom(prefix: string, status: string): Order {
  return orderFromJson(JSON.parse(orderJsonWithStatus(prefix, status)) as OrderJson);
}

/**
 * The order store: orders as hashes in their partition's slot, idempotent creation, and status
 * transitions as compare-and-set scripts. Each step is two-phase: one script in the partition
 * (the order's change, its event appended to the partition's stream of the all-orders channel and
 * recorded as pending for the user's channel), then the {@link EventWriter}'s idempotent append to
 * the user's channel. Concurrent calls are coalesced into one script per partition per turn.
 */
export class OrderStore {
  readonly partitions: Partitioning;
  readonly writer: EventWriter;
  private readonly conn: StoreConn;
  private readonly idemTtlMs: number;
  /** How long a writer holds the events it emitted (EVENT_LEASE_MS). */
  readonly leaseMs: number;
  private readonly creates: TickBatcher<number, CreateItem, CreateResult>;
  private readonly transitions: TickBatcher<number, TransitionItem, TransitionResult>;
  private nextPartition: number;
  private readonly background = new Set<Promise<void>>();

  constructor(
    conn: RedisConnection,
    private readonly opts: OrderStoreOptions = {},
  ) {
    const c = conn as StoreConn;
    if (typeof c.osOrderCreate !== "function") {
      conn.defineCommand("osOrderCreate", { lua: ORDER_CREATE_LUA });
      conn.defineCommand("osOrderTransition", { lua: ORDER_TRANSITION_LUA });
    }
    this.conn = c;
    this.partitions = opts.partitions ?? new Partitioning();
    this.idemTtlMs = opts.idempotencyTtlMs ?? 24 * 3600_000;
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.writer = new EventWriter(conn, {
      history: opts.history ?? DEFAULT_HISTORY,
      sharded: opts.sharded ?? false,
      partitions: this.partitions,
      ...(opts.onError ? { onError: opts.onError } : {}),
    });
    this.nextPartition = Math.floor(Math.random() * this.partitions.count);
    this.creates = new TickBatcher((p, items) => this.createIn(p, items), MAX_ORDERS_PER_SCRIPT);
    this.transitions = new TickBatcher((p, items) => this.transitionIn(p, items), MAX_ORDERS_PER_SCRIPT);
  }

  /** The next partition for orders without an idempotency key (round robin). */
  private roundRobin(): number {
    const p = this.nextPartition;
    this.nextPartition = (p + 1) % this.partitions.count;
    return p;
  }

  /**
   * Stores a validated order PENDING with its `order.created` event pending, and resolves; the
   * event reaches its channels right after (see {@link settled}), exactly once. With an
   * idempotency key, a key this user sent before returns the order it created (as it is now);
   * the same key from another user is another order.
   */
  create(req: ValidOrderRequest, idemKey?: string): Promise<CreateResult> {
    const p = idemKey === undefined ? this.roundRobin() : this.partitions.ofIdempotencyKey(req.userId, idemKey);
    return this.creates.add(p, { req, idemKey });
  }

  /** Creates many validated orders, in scripts of at most {@link MAX_ORDERS_PER_SCRIPT} orders. */
  async createMany(reqs: readonly ValidOrderRequest[]): Promise<Order[]> {
    const chunks: Promise<CreateResult[]>[] = [];
    for (let i = 0; i < reqs.length; i += MAX_ORDERS_PER_SCRIPT) {
      const items = reqs.slice(i, i + MAX_ORDERS_PER_SCRIPT).map((req) => ({ req, idemKey: undefined }));
      chunks.push(this.createIn(this.roundRobin(), items));
    }
    return (await Promise.all(chunks)).flat().map((r) => r.order);
  }

  private async createIn(p: number, items: CreateItem[]): Promise<CreateResult[]> {
    const tag = this.partitions.tag(p);
    const batchId = randomUUID();
    const keys = [pendingKey(tag), jobOutboxKey(tag), jobDataKey(tag)];
    const args: (string | number)[] = [batchId, this.leaseMs, this.idemTtlMs, items.length];
    const orders: Order[] = [];
    const prefixes: string[] = [];
    const createdAt = new Date();
    for (const { req, idemKey } of items) {
      const id = this.partitions.newOrderId(p);
      const order: Order = {
        id,
        userId: req.userId,
        items: req.items,
        total: orderTotal(req.items),
        status: OrderStatus.PENDING,
        createdAt,
        eventOffset: "",
      };
      const prefix = orderJsonPrefix(order);
      orders.push(order);
      prefixes.push(prefix);
      keys.push(orderKey(tag, id));
      if (idemKey !== undefined) keys.push(idempotencyKey(tag, req.userId, idemKey));
      args.push(id, prefix, req.userId, idemKey === undefined ? "0" : "1");
    }
    const stream = this.partitionStream(CHANNEL_CREATED, tag);
    keys.push(...stream.keys);
    args.push(...stream.args);
    const reply = await guardRedis(() => this.conn.osOrderCreate(keys.length, ...keys, ...args));
    const unconfirmed = await this.replicationShortfall();
    const deadline = writerDeadline(reply[1]);
    const pending: PendingEvents[] = [];
    const results: (CreateResult | string)[] = [];
    const createdIds: string[] = [];
    items.forEach((item, i) => {
      const order = orders[i] as Order;
      if (Number(reply[3 + i * 2]) === 1) {
        createdIds.push(order.id);
        results.push({ order, created: true });
        const ref = { orderId: order.id, partition: p, userId: item.req.userId, prefix: prefixes[i] as string };
        pending.push(pendingEventsOf(ref, 0, "PENDING", deadline));
      } else {
        results.push(String(reply[2 + i * 2]));
      }
    });
    // The orders, their pending events and the batch's job-outbox entry are stored: answer now and
    // append the events in the background (a writer that dies meanwhile leaves them to the repair
    // sweep). At most MAX_BACKGROUND_APPENDS calls run at once: beyond, creating waits.
    await this.inBackground(this.writer.complete(pending));
    if (createdIds.length > 0) this.opts.onBatchStored?.({ partition: p, batchId, orderIds: createdIds });
    if (unconfirmed) throw unconfirmed;
    return Promise.all(
      results.map(async (r) => {
        if (typeof r !== "string") return r;
        const order = await this.get(r);
        if (!order) throw new Error("idempotency key names an order that no longer exists");
        return { order, created: false };
      }),
    );
  }

  /** Applies an action as one compare-and-set transition (see TRANSITIONS). */
  transition(orderId: string, action: OrderActionName): Promise<TransitionResult> {
    return this.transitions.add(this.partitions.of(orderId), { orderId, action });
  }

  /** Applies many actions, one script per partition; results in the order of `items`. */
  async transitionMany(items: readonly TransitionItem[]): Promise<TransitionResult[]> {
    return Promise.all(items.map((it) => this.transition(it.orderId, it.action)));
  }

  private async transitionIn(p: number, items: TransitionItem[]): Promise<TransitionResult[]> {
    const tag = this.partitions.tag(p);
    const keys = [pendingKey(tag)];
    const args: (string | number)[] = [this.leaseMs, items.length];
    for (const { orderId, action } of items) {
      const t = TRANSITIONS[action];
      keys.push(orderKey(tag, orderId));
      args.push(orderId, t.from.map(statusName).join(","), statusName(t.to));
    }
    const stream = this.partitionStream(CHANNEL_STATUS, tag);
    keys.push(...stream.keys);
    args.push(...stream.args);
    const reply = await guardRedis(() => this.conn.osOrderTransition(keys.length, ...keys, ...args));
    const unconfirmed = await this.replicationShortfall();
    const deadline = writerDeadline(reply[1]);
    const pending: PendingEvents[] = [];
    const results = items.map((item, i): TransitionResult => {
      const r = (reply[2 + i] as unknown[]).map((x) => (typeof x === "number" ? x : String(x)));
      if (r[0] === "not_found") return { ok: false, code: "not_found" };
      if (r[0] === "invalid_transition") return { ok: false, code: "invalid_transition", order: orderFrom(String(r[2]), String(r[1])) };
      const [, from, to, prefix, userId, acked, statuses] = r as [string, string, string, string, string, number, string];
      pending.push(pendingEventsOf({ orderId: item.orderId, partition: p, userId, prefix }, acked, statuses, deadline));
      return { ok: true, order: orderFrom(prefix, to), from: orderFrom(prefix, from).status };
    });
    await this.writer.complete(pending);
    if (unconfirmed) throw unconfirmed;
    return results;
  }

  /** The keys and arguments an order step needs to append to a partition's stream of an all-orders channel. */
  private partitionStream(channel: string, tag: string): { keys: string[]; args: (string | number)[] } {
    const stream = firehoseChannel(channel, tag);
    const h = this.opts.history ?? DEFAULT_HISTORY;
    return {
      keys: [historyKey(stream), metaKey(stream), pubsubChannel(stream)],
      args: [channel, newEpoch(), h.size, h.ttlMs, this.opts.sharded ? "SPUBLISH" : "PUBLISH"],
    };
  }

  /**
   * With {@link OrderStoreOptions.waitReplicas}: `WAIT` on the connection that wrote (it covers
   * every earlier write of the connection). Too few replicas: the error to answer with once the
   * step has run its course (the write stays; its events and job go on as usual).
   */
  private async replicationShortfall(): Promise<ReplicationUnconfirmedError | undefined> {
    const w = this.opts.waitReplicas;
    if (w === undefined || w.replicas <= 0) return undefined;
    const reached = Number(await guardRedis(() => this.conn.call("WAIT", w.replicas, w.timeoutMs)));
    return reached < w.replicas ? new ReplicationUnconfirmedError(w.replicas, reached) : undefined;
  }

  /** One order, or undefined when it does not exist. */
  async get(orderId: string): Promise<Order | undefined> {
    const key = orderKeyOf(this.partitions, orderId);
    const [prefix, status] = await guardRedis(() => this.conn.hmget(key, "p", "s"));
    if (!prefix || !status) return undefined;
    return orderFrom(prefix, status);
  }

  /** The user an order belongs to, or undefined when it does not exist. */
  owner(orderId: string): Promise<string | undefined> {
    return readOrderOwner(this.conn, this.partitions, orderId);
  }

  /** Runs `work` in the background, once fewer than MAX_BACKGROUND_APPENDS are running. */
  private async inBackground(work: Promise<void>): Promise<void> {
    const tracked = work.catch((err: unknown) => this.opts.onError?.(err, "append"));
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
    while (this.background.size > MAX_BACKGROUND_APPENDS) await Promise.race(this.background);
  }

  /** Resolves once the events of every create so far are on their channels (or left to repair). */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  /** Waits for background appends and acks of emitted events. */
  async close(): Promise<void> {
    await this.settled();
    await this.writer.close();
  }
}

/** The user an order belongs to, or undefined when it does not exist (a read for the edge's checks). */
export async function readOrderOwner(conn: RedisConnection, partitions: Partitioning, orderId: string): Promise<string | undefined> {
  return (await guardRedis(() => conn.hget(orderKeyOf(partitions, orderId), "u"))) ?? undefined;
}

/** The hash of an order, found through the partition of its id. */
function orderKeyOf(partitions: Partitioning, orderId: string): string {
  return orderKey(partitions.tag(partitions.of(orderId)), orderId);
}
