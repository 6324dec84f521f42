import { randomUUID } from "node:crypto";
import type { Order } from "@orderstream/proto";
import {
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
import { OrderStatus } from "@orderstream/proto";
import { CREATE_ORDER_LUA, TRANSITION_LUA } from "./event-scripts.js";
import { type HistoryOptions, DEFAULT_HISTORY, newEpoch } from "./history-options.js";
import { OUTBOX_KEY, idempotencyKey, orderKey } from "./keys.js";
import { guardRedis } from "./redis-errors.js";
import type { RedisConnection } from "./redis-connection.js";

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

/** Options of {@link OrderStore}. */
export interface OrderStoreOptions {
  history?: HistoryOptions;
  /** How long an idempotency key remembers its order. */
  idempotencyTtlMs?: number;
  /** Use SPUBLISH (Redis Cluster sharded pub/sub) instead of PUBLISH. */
  sharded?: boolean;
}

type ScriptConn = RedisConnection & {
  osCreateOrder(...args: (string | number)[]): Promise<unknown[]>;
  osTransition(...args: (string | number)[]): Promise<unknown[]>;
};

/** Registers the event scripts on a connection (idempotent); EVALSHA with EVAL fallback. */
export function defineEventScripts(conn: RedisConnection): void {
  const c = conn as ScriptConn;
  if (typeof c.osCreateOrder === "function") return;
  conn.defineCommand("osCreateOrder", { numberOfKeys: 3, lua: CREATE_ORDER_LUA });
  conn.defineCommand("osTransition", { numberOfKeys: 1, lua: TRANSITION_LUA });
}

function orderFrom(prefix: string, status: string): Order {
  return orderFromJson(JSON.parse(orderJsonWithStatus(prefix, status)) as OrderJson);
}

/**
 * The order store: orders as hashes, idempotent creation, and status transitions as atomic
 * compare-and-set scripts that also append and publish the event (see event-scripts.ts).
 */
export class OrderStore {
  private readonly conn: ScriptConn;
  private readonly history: HistoryOptions;
  private readonly idemTtlMs: number;
  private readonly pubcmd: string;

  constructor(conn: RedisConnection, opts: OrderStoreOptions = {}) {
    defineEventScripts(conn);
    this.conn = conn as ScriptConn;
    this.history = opts.history ?? DEFAULT_HISTORY;
    this.idemTtlMs = opts.idempotencyTtlMs ?? 24 * 3600_000;
    this.pubcmd = opts.sharded ? "SPUBLISH" : "PUBLISH";
  }

  private createArgs(req: ValidOrderRequest, idemKey: string | undefined): { id: string; args: (string | number)[] } {
    const id = randomUUID();
    const order: Order = {
      id,
      userId: req.userId,
      items: req.items,
      total: orderTotal(req.items),
      status: OrderStatus.PENDING,
      createdAt: new Date(),
      eventOffset: "",
    };
    const h = this.history;
    const args = [
      orderKey(id),
      idemKey ? idempotencyKey(idemKey) : "",
      OUTBOX_KEY,
      id,
      orderJsonPrefix(order),
      req.userId,
      this.idemTtlMs,
      Date.now(),
      newEpoch(),
      h.size,
      h.ttlMs,
      h.metaTtlMs,
      this.pubcmd,
    ];
    return { id, args };
  }

  private static createResult(reply: unknown[]): CreateResult {
    const [flag, , prefix, status] = reply as [number, string, string, string];
    if (!prefix) throw new Error("idempotency key names an order that no longer exists");
    return { created: flag === 1, order: orderFrom(prefix, status) };
  }

  /**
   * Stores a validated order PENDING, records it in the outbox and emits `order.created`, in one
   * atomic step. With an idempotency key, a key seen before returns the order it created.
   */
  async create(req: ValidOrderRequest, idemKey?: string): Promise<CreateResult> {
    const { args } = this.createArgs(req, idemKey);
    const reply = await guardRedis(() => this.conn.osCreateOrder(...args));
    return OrderStore.createResult(reply);
  }

  /** Creates many validated orders in one pipelined round trip. */
  async createMany(reqs: readonly ValidOrderRequest[]): Promise<Order[]> {
    if (reqs.length === 0) return [];
    const pipeline = this.conn.pipeline();
    for (const req of reqs) {
      const { args } = this.createArgs(req, undefined);
      (pipeline as unknown as { osCreateOrder(...a: (string | number)[]): void }).osCreateOrder(...args);
    }
    const replies = await guardRedis(async () => (await pipeline.exec()) ?? []);
    return replies.map(([err, reply]) => {
      if (err) throw err;
      return OrderStore.createResult(reply as unknown[]).order;
    });
  }

  /** Applies an action as one compare-and-set transition (see TRANSITIONS). */
  async transition(orderId: string, action: OrderActionName): Promise<TransitionResult> {
    const t = TRANSITIONS[action];
    const h = this.history;
    const reply = await guardRedis(() =>
      this.conn.osTransition(
        orderKey(orderId),
        t.from.map(statusName).join(","),
        statusName(t.to),
        newEpoch(),
        h.size,
        h.ttlMs,
        h.metaTtlMs,
        this.pubcmd,
      ),
    );
    const [code] = reply as [string];
    if (code === "not_found") return { ok: false, code: "not_found" };
    if (code === "invalid_transition") {
      const [, current, prefix] = reply as [string, string, string];
      return { ok: false, code: "invalid_transition", order: orderFrom(prefix, current) };
    }
    const [, from, to, prefix] = reply as [string, string, string, string];
    const order = orderFrom(prefix, to);
    return { ok: true, order, from: orderFrom(prefix, from).status };
  }

  /** One order, or undefined when it does not exist. */
  async get(orderId: string): Promise<Order | undefined> {
    const [prefix, status] = await guardRedis(() => this.conn.hmget(orderKey(orderId), "p", "s"));
    if (!prefix || !status) return undefined;
    return orderFrom(prefix, status);
  }

  /** Removes orders from the outbox once their job is known to be queued. */
  async markQueued(orderIds: readonly string[]): Promise<void> {
    if (orderIds.length === 0) return;
    await guardRedis(() => this.conn.zrem(OUTBOX_KEY, ...orderIds));
  }

  /** Orders stored more than `olderThanMs` ago whose job was never confirmed queued. */
  async unqueued(olderThanMs: number, limit: number): Promise<string[]> {
    const max = Date.now() - olderThanMs;
    return guardRedis(() => this.conn.zrangebyscore(OUTBOX_KEY, 0, max, "LIMIT", 0, limit));
  }
}
