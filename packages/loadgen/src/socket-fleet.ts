import { type AnnouncedOrder, DeliveryTracker } from "./delivery-tracker.js";
import { TokenSource } from "./jwt.js";
import { assignSocket, type SocketPlanParams } from "./socket-plan.js";
import { StatsCollector } from "./stats.js";
import { RAW, type RawHandler, type RawTarget, RawWebSocket, rawTarget } from "./raw-socket.js";
import { type SourceEndpoint, sourceFor } from "./target.js";
import type { DeliveryReport } from "./types.js";

/** One fleet's share of the sockets and how to open them (plain data: it crosses IPC). */
export interface FleetSpec {
  plan: SocketPlanParams;
  /** First global socket index and how many sockets this fleet opens. */
  start: number;
  count: number;
  token?: string;
  jwtSecret?: string;
  /** Source address per block of `socketsPerAddress` sockets (null = the kernel's choice). */
  sourceAddresses: (string | null)[];
  socketsPerAddress: number;
  /** This fleet's connections per second. */
  rampPerS: number;
  /** Track every order.created delivery against announced orders (e2e). */
  trackDelivery: boolean;
  handshakeTimeoutMs: number;
}

const MAX_CONNECTING = 1000;
const RAMP_TICK_MS = 20;
const MAX_OPENS_PER_TICK = 100;
/** Frames handled per event-loop turn before sockets are paused until the next turn. */
const FRAMES_PER_TURN = 2000;
/** How an orderstream edge starts an `order.status` frame (other layouts take the JSON.parse path). */
const STATUS_PREFIX = Buffer.from('{"type":"order.status"');
/** Paused sockets resumed per event-loop turn while the client is saturated. */
const RESUME_PER_TURN = 32;

/** Absolute epoch time in ms with sub-ms precision, comparable across processes. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

interface EventFrame {
  type?: string;
  data?: { id?: string; createdAt?: string };
  error?: { code?: string };
}

/** Per-socket flags, one byte each (no per-socket objects beyond the raw socket). */
const OPENED = 1;
const SETTLED = 2;

/**
 * Opens, ramps and watches a range of WebSocket subscribers on the lean raw client
 * ({@link RawWebSocket}); records into its own collector. A socket's own state is its index, a
 * flag byte and its connect start time, in arrays; its token goes in the protocol's `connect`
 * frame, sent with the `subscribe` in one write right after the upgrade.
 */
export class SocketFleet implements RawHandler<number> {
  readonly stats = new StatsCollector();
  private readonly sockets: (RawWebSocket<number> | undefined)[] = [];
  private readonly flags: Uint8Array;
  private readonly startedAt: Float64Array;
  private readonly attempts: Uint8Array;
  private readonly targets = new Map<string, RawTarget>();
  private readonly tracker: DeliveryTracker | undefined;
  private readonly tokens: TokenSource;
  private opened = 0;
  private connecting = 0;
  private settledCount = 0;
  private rampTimer: NodeJS.Timeout | undefined;
  /** Sockets this fleet opens: all of them, or as many as it had started when told to hold. */
  private limit: number;
  private rampStart = 0;
  private stopping = false;
  private budget = FRAMES_PER_TURN;
  private readonly paused: RawWebSocket<number>[] = [];
  private resumeScheduled = false;

  constructor(private readonly spec: FleetSpec) {
    this.tokens = new TokenSource(spec.token, spec.jwtSecret);
    this.tracker = spec.trackDelivery ? new DeliveryTracker(this.stats) : undefined;
    this.flags = new Uint8Array(spec.count);
    this.startedAt = new Float64Array(spec.count);
    this.attempts = new Uint8Array(spec.count);
    this.limit = spec.count;
  }

  /** Every socket has either confirmed its subscription or failed. */
  get settled(): boolean {
    return this.settledCount >= this.limit;
  }

  /** Starts the ramp-up; returns at once. */
  start(): void {
    this.rampStart = performance.now();
    this.rampTimer = setInterval(() => this.rampStep(), RAMP_TICK_MS);
    this.rampStep();
  }

  private rampStep(): void {
    if (this.stopping) return;
    const elapsedS = (performance.now() - this.rampStart) / 1000;
    const due = Math.min(this.spec.count, Math.floor(elapsedS * this.spec.rampPerS) + 1);
    // a bounded burst per tick keeps the loop responsive when ticks run late
    for (let n = 0; n < MAX_OPENS_PER_TICK && this.opened < due && this.connecting < MAX_CONNECTING; n++) this.connect(this.opened++);
    if (this.opened >= this.spec.count && this.rampTimer) {
      clearInterval(this.rampTimer);
      this.rampTimer = undefined;
    }
  }

  private target(url: string): RawTarget {
    let t = this.targets.get(url);
    if (!t) {
      t = rawTarget(url);
      this.targets.set(url, t);
    }
    return t;
  }

  private connect(local: number, source?: SourceEndpoint): void {
    const a = assignSocket(this.spec.start + local, this.spec.plan);
    const src = source ?? sourceFor(a.index, this.spec.sourceAddresses, this.spec.socketsPerAddress);
    const url = src.localAddress !== undefined ? a.url.replace("//localhost:", "//127.0.0.1:") : a.url;
    if (this.attempts[local] === 0) this.tracker?.addSocket(local, a.userId, a.channels.includes("orders.created"));
    this.startedAt[local] = performance.now();
    this.connecting++;
    this.sockets[local] = new RawWebSocket(this.target(url), local, this, src, this.spec.handshakeTimeoutMs);
  }

  private settle(local: number): void {
    if ((this.flags[local] as number) & SETTLED) return;
    this.flags[local] = (this.flags[local] as number) | SETTLED;
    this.settledCount++;
  }

  /** The upgrade succeeded: `connect` (when there is a token) and `subscribe` go out in one write. */
  open(ws: RawWebSocket<number>): void {
    const local = ws.data;
    this.connecting--;
    this.flags[local] = (this.flags[local] as number) | OPENED;
    this.stats.counters.connects++;
    this.stats.open++;
    this.stats.record("connect", performance.now() - (this.startedAt[local] as number));
    const a = assignSocket(this.spec.start + local, this.spec.plan);
    const token = a.userId !== undefined ? this.tokens.user(a.userId) : this.tokens.admin();
    const subscribe = JSON.stringify({ type: "subscribe", channels: a.channels });
    ws.sendFrames(token !== undefined ? [JSON.stringify({ type: "connect", token }), subscribe] : [subscribe]);
  }

  text(ws: RawWebSocket<number>, data: Buffer): void {
    this.charge(ws);
    if (this.stopping) return; // the run is over: frames still in flight are not counted
    this.stats.counters.bytes += data.length;
    if (data.length > STATUS_PREFIX.length && data.subarray(0, STATUS_PREFIX.length).equals(STATUS_PREFIX)) {
      this.stats.counters.messages++; // fast path: status events need no parsing
      return;
    }
    let frame: EventFrame;
    try {
      frame = JSON.parse(data.toString()) as EventFrame;
    } catch {
      this.stats.error("bad_json");
      return;
    }
    this.onFrame(ws.data, frame);
  }

  close(ws: RawWebSocket<number>, code: number, failure: string | undefined): void {
    const local = ws.data;
    if (this.sockets[local] === ws) this.sockets[local] = undefined;
    if (failure === undefined) {
      this.stats.open--;
      if (!this.stopping) this.stats.close(code);
      this.settle(local);
      return;
    }
    this.connecting--;
    const attempt = this.attempts[local] as number;
    const src = sourceFor(this.spec.start + local, this.spec.sourceAddresses, this.spec.socketsPerAddress);
    if (!this.stopping && src.localPort !== undefined && (failure === "EADDRINUSE" || failure === "EADDRNOTAVAIL") && attempt < 3) {
      // the explicit source port is taken (a listener or TIME_WAIT): try another block's port
      this.attempts[local] = attempt + 1;
      const port = src.localPort + (attempt + 1) * 7919;
      this.connect(local, port < 32768 ? { ...src, localPort: port } : src.localAddress !== undefined ? { localAddress: src.localAddress } : {});
      return;
    }
    if (!this.stopping) this.stats.connectError(failure);
    this.settle(local);
  }

  /**
   * Read backpressure: past the per-turn frame budget a socket is paused and queued; each later
   * event-loop turn resumes only a few queued sockets (oldest first). Timers (ticks, the duration
   * bound) and IPC keep running when the client is saturated; unread data waits in the kernel and
   * on the server, which is what a slow reader looks like.
   */
  private charge(ws: RawWebSocket<number>): void {
    if (--this.budget > 0 || ws.isPaused) return;
    ws.pause();
    this.paused.push(ws);
    this.scheduleResume();
  }

  private scheduleResume(): void {
    if (this.resumeScheduled) return;
    this.resumeScheduled = true;
    setImmediate(() => {
      this.resumeScheduled = false;
      this.budget = FRAMES_PER_TURN;
      for (const p of this.paused.splice(0, RESUME_PER_TURN)) if (p.state !== RAW.closed) p.resume();
      if (this.paused.length > 0) this.scheduleResume();
    });
  }

  private onFrame(local: number, frame: EventFrame): void {
    switch (frame.type) {
      case "order.created": {
        this.stats.counters.messages++;
        const now = epochNow();
        const id = frame.data?.id;
        if (this.tracker) {
          if (typeof id === "string") this.tracker.received(local, id, now);
        } else if (typeof frame.data?.createdAt === "string") {
          const created = Date.parse(frame.data.createdAt);
          if (Number.isFinite(created)) this.stats.record("delivery", Math.max(0, now - created));
        }
        return;
      }
      case "order.status":
        this.stats.counters.messages++;
        return;
      case "connected":
        return;
      case "subscribed":
        this.stats.counters.subscribed++;
        this.tracker?.subscribed(local, epochNow());
        this.settle(local);
        return;
      case "error":
        this.stats.error(frame.error?.code ?? "error");
        this.settle(local);
        return;
      default:
        this.stats.counters.messages++;
    }
  }

  /** Opens no more sockets (the machine is running out of memory); those started carry on. */
  hold(): void {
    if (this.rampTimer) clearInterval(this.rampTimer);
    this.rampTimer = undefined;
    this.limit = this.opened;
  }

  /** Learns orders created by the e2e driver. */
  announce(orders: AnnouncedOrder[]): void {
    this.tracker?.announce(orders);
  }

  /** Stops ramping, closes every socket (1000, then terminate after `graceMs`) and reports delivery. */
  async stop(graceMs = 2000): Promise<DeliveryReport | undefined> {
    this.stopping = true;
    if (this.rampTimer) clearInterval(this.rampTimer);
    this.rampTimer = undefined;
    const live = this.sockets.filter((s): s is RawWebSocket<number> => s !== undefined);
    const report = this.tracker?.report();
    const deadline = Date.now() + graceMs;
    for (const ws of live) ws.close(1000);
    while (live.some((ws) => ws.state !== RAW.closed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const ws of live) if (ws.state !== RAW.closed) ws.terminate();
    while (live.some((ws) => ws.state !== RAW.closed) && Date.now() < deadline + 2000) await new Promise((r) => setTimeout(r, 20));
    return report;
  }
}
