import calculateSlot from "cluster-key-slot";
import { Cluster, type Redis } from "ioredis";
import {
  type OrderActionName,
  type OrderJson,
  type ValidOrderRequest,
  TRANSITIONS,
  isTerminal,
  orderFromJson,
  orderJsonPrefix,
  orderJsonWithStatus,
  orderTotal,
  statusName,
} from "@orderstream/domain";
import { type Order, OrderStatus } from "@orderstream/proto";
import type { HistoryOptions } from "../layout/history-options.js";
import { dueKey, orderKey } from "../layout/keys.js";
import { type CreateItem, type TransitionItem, WriteScripts } from "./write-scripts.js";
import { Partitioning } from "../layout/partitions.js";
import type { RedisConnection } from "../runtime/redis-connection.js";
import { RedisUnavailableError, ReplicationUnconfirmedError, guardRedis } from "../runtime/redis-errors.js";
import { TickBatcher } from "./tick-batcher.js";

/** Result of {@link OrderStore.create}. */
export interface CreateResult {
  order: Order;
  /** False when the user's idempotency key returned an order created earlier. */
  created: boolean;
}

/** Result of {@link OrderStore.transition}. */
export type TransitionResult =
  | { ok: true; order: Order; from: OrderStatus }
  | { ok: false; code: "not_found" }
  | { ok: false; code: "invalid_transition"; order: Order };

/** Orders of one partition with work due now (created together, or retried): their job is to be queued. */
export interface StoredBatch {
  partition: number;
  orderIds: string[];
}

/** One status transition asked of the store. */
export interface TransitionRequest {
  orderId: string;
  action: OrderActionName;
  /** The order's user, when the caller knows it (saves a read; a wrong one is corrected). */
  userId?: string | undefined;
  /**
   * When the order's next step is due, in ms from now; "none": nothing is due (it leaves the due
   * set); undefined: the due entry stays as it is. A terminal or FAILED status always leaves the
   * due set; a retry is due at once.
   */
  dueInMs?: number | "none" | undefined;
  /** A short note that travels with this change's event (see MAX_NOTE_LENGTH). */
  note?: string | undefined;
  /** Why the order fails (the `fail` action): kept on the FAILED order and on its event. */
  reason?: string | undefined;
}

/** Options of {@link OrderStore}. */
export interface OrderStoreOptions {
  history?: HistoryOptions;
  /** How long an idempotency key remembers its order. */
  idempotencyTtlMs?: number;
  /** Use SPUBLISH (Redis Cluster sharded pub/sub) instead of PUBLISH. */
  sharded?: boolean;
  partitions?: Partitioning;
  /** Called once per batch of orders with work due now (new ones, retried ones): its job is to be queued. */
  onBatchStored?: (batch: StoredBatch) => void;
  /**
   * REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT_MS: creates and transitions resolve only after `WAIT`
   * confirmed them on this many replicas, or reject with {@link ReplicationUnconfirmedError}. WAIT
   * runs on the connection that wrote: on a Redis Cluster, the one to the partition's master.
   * Off when absent.
   */
  waitReplicas?: { replicas: number; timeoutMs: number };
}

/** Most orders one create or transition script carries. */
export const MAX_ORDERS_PER_SCRIPT = 100;

interface CreateRequest {
  req: ValidOrderRequest;
  idemKey: string | undefined;
}

function orderFrom(prefix: string, status: string): Order {
  return orderFromJson(JSON.parse(orderJsonWithStatus(prefix, status)) as OrderJson);
}

/**
 * The order store. An order lives in its user's partition, and each change of it is one event
 * written by one script in that partition's slot: the order's hash, its event on the user's
 * channel and on the partition's all-orders stream, and its entry in the due set, all at once,
 * so every channel holds each event exactly once. Concurrent calls are coalesced into one script
 * per partition per event-loop turn.
 */
export class OrderStore {
  readonly partitions: Partitioning;
  private readonly scripts: WriteScripts;
  private readonly creates: TickBatcher<number, CreateRequest, CreateResult>;
  private readonly transitions: TickBatcher<number, TransitionRequest, TransitionResult>;

  constructor(
    private readonly conn: RedisConnection,
    private readonly opts: OrderStoreOptions = {},
  ) {
    this.partitions = opts.partitions ?? new Partitioning();
    this.scripts = new WriteScripts(conn, {
      ...(opts.history ? { history: opts.history } : {}),
      sharded: opts.sharded ?? false,
      idempotencyTtlMs: opts.idempotencyTtlMs ?? 24 * 3600_000,
    });
    this.creates = new TickBatcher((p, items) => this.createIn(p, items), MAX_ORDERS_PER_SCRIPT);
    this.transitions = new TickBatcher((p, items) => this.transitionIn(p, items), MAX_ORDERS_PER_SCRIPT);
  }

  /**
   * Stores a validated order PENDING with its `order.created` event on its channels, and
   * resolves. With an idempotency key, a key this user sent before returns the order it created
   * (as it is now); the same key from another user is another order.
   */
  create(req: ValidOrderRequest, idemKey?: string): Promise<CreateResult> {
    return this.creates.add(this.partitions.ofUser(req.userId), { req, idemKey });
  }

  /**
   * Creates many validated orders, one script per partition per {@link MAX_ORDERS_PER_SCRIPT}
   * orders; the orders come back in the order of `reqs` (BulkCreateOrders' `order_ids` too).
   */
  async createMany(reqs: readonly ValidOrderRequest[]): Promise<Order[]> {
    const byPartition = new Map<number, number[]>();
    reqs.forEach((req, i) => {
      const p = this.partitions.ofUser(req.userId);
      const list = byPartition.get(p);
      if (list) list.push(i);
      else byPartition.set(p, [i]);
    });
    const out: Order[] = new Array(reqs.length);
    const chunks: Promise<void>[] = [];
    for (const [p, indexes] of byPartition) {
      for (let i = 0; i < indexes.length; i += MAX_ORDERS_PER_SCRIPT) {
        const part = indexes.slice(i, i + MAX_ORDERS_PER_SCRIPT);
        const items = part.map((k): CreateRequest => ({ req: reqs[k] as ValidOrderRequest, idemKey: undefined }));
        chunks.push(
          this.createIn(p, items).then((results) => {
            results.forEach((r, j) => {
              out[part[j] as number] = r.order;
            });
          }),
        );
      }
    }
    await Promise.all(chunks);
    return out;
  }

  private async createIn(p: number, items: CreateRequest[]): Promise<CreateResult[]> {
    const createdAt = new Date();
    const orders = items.map(
      ({ req }): Order => ({
        id: this.partitions.newOrderId(p),
        userId: req.userId,
        items: req.items,
        total: orderTotal(req.items),
        status: OrderStatus.PENDING,
        createdAt,
        eventOffset: "",
        statusReason: "",
        note: "",
      }),
    );
    const calls = orders.map(
      (o, i): CreateItem => ({ id: o.id, prefix: orderJsonPrefix(o), userId: o.userId, idemKey: items[i]?.idemKey }),
    );
    const tag = this.partitions.tag(p);
    const reply = await guardRedis(() => this.scripts.createOrders(tag, calls));
    const unconfirmed = await this.replicationShortfall(tag);
    const createdIds = orders.filter((_, i) => Number(reply[i * 2 + 1]) === 1).map((o) => o.id);
    if (createdIds.length > 0) this.opts.onBatchStored?.({ partition: p, orderIds: createdIds });
    if (unconfirmed) throw unconfirmed;
    return Promise.all(
      orders.map(async (order, i) => {
        if (Number(reply[i * 2 + 1]) === 1) return { order, created: true };
        const existing = await this.get(String(reply[i * 2]));
        if (!existing) throw new Error("idempotency key names an order that no longer exists");
        return { order: existing, created: false };
      }),
    );
  }

  /** Applies an action as one compare-and-set transition (see TRANSITIONS). */
  transition(orderId: string, action: OrderActionName): Promise<TransitionResult> {
    return this.transitionOne({ orderId, action });
  }

  /** {@link transition} with the caller's knowledge of the user and of the next due step. */
  transitionOne(t: TransitionRequest): Promise<TransitionResult> {
    return this.transitions.add(this.partitions.of(t.orderId), t);
  }

  /** Applies many transitions, one script per partition; results in the order of `items`. */
  transitionMany(items: readonly TransitionRequest[]): Promise<TransitionResult[]> {
    return Promise.all(items.map((t) => this.transitionOne(t)));
  }

  private async transitionIn(p: number, items: TransitionRequest[], retry = true): Promise<TransitionResult[]> {
    const tag = this.partitions.tag(p);
    const owners = await Promise.all(items.map((t) => t.userId ?? this.owner(t.orderId)));
    const results: (TransitionResult | undefined)[] = items.map((_, i) =>
      owners[i] === undefined ? { ok: false, code: "not_found" } : undefined,
    );
    const calls: TransitionItem[] = [];
    const at: number[] = [];
    items.forEach((t, i) => {
      const userId = owners[i];
      if (userId === undefined) return;
      const { from, to } = TRANSITIONS[t.action];
      const due = isTerminal(to) || t.action === "fail" ? "none" : t.action === "retry" ? 0 : t.dueInMs;
      calls.push({
        id: t.orderId,
        userId,
        from: from.map(statusName),
        to: t.action === "retry" ? "" : statusName(to),
        due,
        extra: eventExtra(t),
        reason: t.reason ?? "",
      });
      at.push(i);
    });
    if (calls.length > 0) {
      const reply = await guardRedis(() => this.scripts.transitionOrders(tag, calls));
      const unconfirmed = await this.replicationShortfall(tag);
      const again: number[] = [];
      const retried: string[] = [];
      reply.forEach((raw, j) => {
        const r = (raw as unknown[]).map(String);
        const i = at[j] as number;
        const call = calls[j] as TransitionItem;
        if (r[0] === "ok") {
          const asked = items[i] as TransitionRequest;
          const order = { ...orderFrom(String(r[2]), String(r[3])), statusReason: call.reason, note: asked.note ?? "" };
          results[i] = { ok: true, order, from: orderFrom(String(r[2]), String(r[1])).status };
          if (asked.action === "retry") retried.push(call.id);
        } else if (r[0] === "invalid_transition")
          results[i] = { ok: false, code: "invalid_transition", order: orderFrom(String(r[2]), String(r[1])) };
        else if (r[0] === "owner" && retry) again.push(i);
        else results[i] = { ok: false, code: "not_found" };
      });
      if (retried.length > 0) this.opts.onBatchStored?.({ partition: p, orderIds: retried });
      if (unconfirmed) throw unconfirmed;
      if (again.length > 0) {
        // The caller named another user: ask again with the order's own.
        const redo = await this.transitionIn(
          p,
          again.map((i) => ({ ...(items[i] as TransitionRequest), userId: undefined })),
          false,
        );
        again.forEach((i, j) => (results[i] = redo[j]));
      }
    }
    return results as TransitionResult[];
  }

  /**
   * With {@link OrderStoreOptions.waitReplicas}: `WAIT` on the connection that wrote to the
   * partition tagged `tag` (it covers every earlier write of the connection). Too few replicas:
   * the error to answer with once the step has run its course (the write stays; its job goes on).
   */
  private async replicationShortfall(tag: string): Promise<ReplicationUnconfirmedError | undefined> {
    const w = this.opts.waitReplicas;
    if (w === undefined || w.replicas <= 0) return undefined;
    const conn = this.conn instanceof Cluster ? masterOfSlot(this.conn, calculateSlot(dueKey(tag))) : this.conn;
    const reached = Number(await guardRedis(() => conn.call("WAIT", w.replicas, w.timeoutMs)));
    return reached < w.replicas ? new ReplicationUnconfirmedError(w.replicas, reached) : undefined;
  }

  /** One order, or undefined when it does not exist. */
  async get(orderId: string): Promise<Order | undefined> {
    return (await this.read(orderId))?.order;
  }

  /** One order and its version (one per event: what a workflow step's idempotency key names). */
  async read(orderId: string): Promise<{ order: Order; version: number } | undefined> {
    const key = orderKeyOf(this.partitions, orderId);
    const [prefix, status, version, reason] = await guardRedis(() => this.conn.hmget(key, "p", "s", "v", "fr"));
    if (!prefix || !status) return undefined;
    return { order: { ...orderFrom(prefix, status), statusReason: reason ?? "" }, version: Number(version ?? 0) };
  }

  /** The user an order belongs to, or undefined when it does not exist. */
  owner(orderId: string): Promise<string | undefined> {
    return readOrderOwner(this.conn, this.partitions, orderId);
  }
}

/** The user an order belongs to, or undefined when it does not exist (a read for the edge's checks). */
export async function readOrderOwner(conn: RedisConnection, partitions: Partitioning, orderId: string): Promise<string | undefined> {
  return (await guardRedis(() => conn.hget(orderKeyOf(partitions, orderId), "u"))) ?? undefined;
}

/**
 * The connection a Redis Cluster client sends a slot's commands on (its master's): where a script
 * in that slot ran, so where its WAIT belongs.
 */
function masterOfSlot(cluster: Cluster, slot: number): Redis {
  const key = (cluster.slots[slot] as string[] | undefined)?.[0];
  const node = cluster.nodes("master").find((n) => `${n.options.host}:${n.options.port}` === key);
  if (!node) throw new RedisUnavailableError(`no known master for slot ${slot} (the slot map is being refreshed)`);
  return node;
}

/** The JSON members a transition's event carries beyond the order: its note, the reason it fails. */
function eventExtra(t: TransitionRequest): string {
  let extra = "";
  if (t.reason) extra += `,"statusReason":${JSON.stringify(t.reason)}`;
  if (t.note) extra += `,"note":${JSON.stringify(t.note)}`;
  return extra;
}

/** The hash of an order, found through the partition of its id. */
function orderKeyOf(partitions: Partitioning, orderId: string): string {
  return orderKey(partitions.tag(partitions.of(orderId)), orderId);
}
