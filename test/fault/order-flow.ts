import { OrderStore, type RedisConnection, closeRedis, createRedis, waitReady, isClusterUrl } from "@orderstream/bus";

/** An order the flow created (its `order.created` event was acknowledged by Redis). */
export interface FlowOrder {
  id: string;
  userId: string;
  /** Whether its `confirm` transition (an `order.status` event) was acknowledged too. */
  confirmed: boolean;
  createdAt: number;
}

/** Options of {@link OrderFlow}. */
export interface OrderFlowOptions {
  redisUrl: string;
  /** Orders created per second. */
  ratePerS: number;
  /** User ids the orders go to, round robin. */
  users: string[];
  /** Also confirm each order on the next tick (an `order.status` event per order). */
  confirm?: boolean;
  /** History kept per channel (big, so the ground truth is never trimmed). */
  historySize?: number;
}

const TICK_MS = 20;
const MAX_PER_TICK = 200;

/**
 * A steady flow of orders written with the real OrderStore (the same Lua scripts order-api and the
 * processors use): creates at a fixed rate, optionally confirms each one a tick later. Failures
 * (Redis down) are counted, not thrown; only acknowledged writes are recorded as having happened.
 */
export class OrderFlow {
  readonly orders: FlowOrder[] = [];
  failures = 0;
  private readonly conn: RedisConnection;
  private readonly store: OrderStore;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private started = 0;
  private attempted = 0;
  private toConfirm: FlowOrder[] = [];
  private paused = false;

  constructor(private readonly opts: OrderFlowOptions) {
    this.conn = createRedis(opts.redisUrl, { role: "command", name: "fault-test-flow", commandTimeoutMs: 2000 });
    const size = opts.historySize ?? 1_000_000;
    this.store = new OrderStore(this.conn, {
      history: { size, ttlMs: 3_600_000, metaTtlMs: 86_400_000 },
      sharded: isClusterUrl(opts.redisUrl),
    });
  }

  /** Waits for the Redis connection, then starts the flow. */
  async start(): Promise<void> {
    await waitReady(this.conn);
    this.started = Date.now();
    this.attempted = 0;
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Orders created so far. */
  get created(): number {
    return this.orders.length;
  }

  private tick(): void {
    if (this.inFlight || this.paused) return;
    const due = Math.min(MAX_PER_TICK, Math.floor(((Date.now() - this.started) * this.opts.ratePerS) / 1000) - this.attempted);
    const confirm = this.opts.confirm ? this.toConfirm.splice(0) : [];
    if (due <= 0 && confirm.length === 0) return;
    this.inFlight = this.step(Math.max(0, due), confirm).finally(() => {
      this.inFlight = undefined;
    });
  }

  private async step(n: number, confirm: FlowOrder[]): Promise<void> {
    const reqs = Array.from({ length: n }, (_, i) => {
      const user = this.opts.users[(this.attempted + i) % this.opts.users.length] as string;
      return { userId: user, items: [{ productId: `p${(this.attempted + i) % 97}`, quantity: 1, price: 5 }] };
    });
    this.attempted += n;
    const work: Promise<unknown>[] = [];
    if (n > 0) {
      work.push(
        this.store.createMany(reqs).then(
          (orders) => {
            for (const o of orders) {
              const fo = { id: o.id, userId: o.userId, confirmed: false, createdAt: Date.now() };
              this.orders.push(fo);
              if (this.opts.confirm) this.toConfirm.push(fo);
            }
          },
          () => {
            this.failures += n;
          },
        ),
      );
    }
    for (const o of confirm) {
      work.push(
        this.store.transition(o.id, "confirm").then(
          (r) => {
            if (r.ok) o.confirmed = true;
          },
          () => {
            this.failures++;
          },
        ),
      );
    }
    await Promise.all(work);
  }

  /** Stops creating (an interval can be resumed with {@link resume}); waits for writes in flight. */
  async pause(): Promise<void> {
    this.paused = true;
    await this.inFlight;
  }

  /** Resumes after {@link pause}, at the same rate, from now (no burst of missed orders). */
  resume(): void {
    this.started = Date.now();
    this.attempted = 0;
    this.paused = false;
  }

  /** Stops the flow, confirms what is still pending, and closes the connection. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    const confirm = this.toConfirm.splice(0);
    if (confirm.length > 0) await this.step(0, confirm);
    await closeRedis(this.conn);
  }
}
