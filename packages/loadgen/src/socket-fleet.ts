import { WebSocket } from "ws";
import { type AnnouncedOrder, DeliveryTracker } from "./delivery-tracker.js";
import { TokenSource } from "./jwt.js";
import { assignSocket, type SocketPlanParams } from "./socket-plan.js";
import { StatsCollector } from "./stats.js";
import { type SourceEndpoint, sourceFor, withToken } from "./target.js";
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

function reasonOf(err: Error & { code?: string }): string {
  if (err.code) return err.code;
  const m = /Unexpected server response: (\d+)/.exec(err.message);
  if (m) return `http_${m[1]}`;
  return err.message.slice(0, 60) || "error";
}

interface EventFrame {
  type?: string;
  data?: { id?: string; createdAt?: string };
  error?: { code?: string };
}

/** Opens, ramps and watches a range of WebSocket subscribers; records into its own collector. */
export class SocketFleet {
  readonly stats = new StatsCollector();
  private readonly sockets: (WebSocket | undefined)[] = [];
  private readonly tracker: DeliveryTracker | undefined;
  private readonly tokens: TokenSource;
  private opened = 0;
  private connecting = 0;
  private settledCount = 0;
  private rampTimer: NodeJS.Timeout | undefined;
  private rampStart = 0;
  private stopping = false;
  private budget = FRAMES_PER_TURN;
  private readonly paused: WebSocket[] = [];
  private resumeScheduled = false;

  constructor(private readonly spec: FleetSpec) {
    this.tokens = new TokenSource(spec.token, spec.jwtSecret);
    this.tracker = spec.trackDelivery ? new DeliveryTracker(this.stats) : undefined;
  }

  /** Every socket has either confirmed its subscription or failed. */
  get settled(): boolean {
    return this.settledCount >= this.spec.count;
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
    for (let n = 0; n < MAX_OPENS_PER_TICK && this.opened < due && this.connecting < MAX_CONNECTING; n++) this.open(this.opened++);
    if (this.opened >= this.spec.count && this.rampTimer) {
      clearInterval(this.rampTimer);
      this.rampTimer = undefined;
    }
  }

  private open(local: number, source?: SourceEndpoint, attempt = 0): void {
    const a = assignSocket(this.spec.start + local, this.spec.plan);
    const src = source ?? sourceFor(a.index, this.spec.sourceAddresses, this.spec.socketsPerAddress);
    let url = withToken(a.url, a.userId !== undefined ? this.tokens.user(a.userId) : this.tokens.admin());
    if (src.localAddress !== undefined) url = url.replace("//localhost:", "//127.0.0.1:");
    if (attempt === 0) this.tracker?.addSocket(local, a.userId, a.channels.includes("orders.created"));
    const t0 = performance.now();
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: this.spec.handshakeTimeoutMs, ...src });
    this.sockets[local] = ws;
    this.connecting++;
    let isOpen = false;
    let failed = false;
    let retried = false;
    let isSettled = false;
    const settle = (): void => {
      if (!isSettled) {
        isSettled = true;
        this.settledCount++;
      }
    };
    ws.on("open", () => {
      isOpen = true;
      this.connecting--;
      this.stats.counters.connects++;
      this.stats.open++;
      this.stats.record("connect", performance.now() - t0);
      ws.send(JSON.stringify({ type: "subscribe", channels: a.channels }));
    });
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.charge(ws);
      if (this.stopping) return; // the run is over: frames still in flight are not counted
      this.stats.counters.bytes += data.length;
      if (isBinary) return;
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
      this.onFrame(local, frame, settle);
    });
    ws.on("error", (err: Error & { code?: string }) => {
      if (isOpen) this.stats.error(`socket_${reasonOf(err)}`);
      else if (!failed && src.localPort !== undefined && (err.code === "EADDRINUSE" || err.code === "EADDRNOTAVAIL") && attempt < 3) {
        // the explicit source port is taken (a listener or TIME_WAIT): try the next block's port
        failed = true;
        retried = true;
        this.connecting--;
        const port = src.localPort + (attempt + 1) * 7919;
        const next: SourceEndpoint = port < 32768 ? { ...src, localPort: port } : src.localAddress !== undefined ? { localAddress: src.localAddress } : {};
        if (!this.stopping) this.open(local, next, attempt + 1);
      } else if (!failed) {
        failed = true;
        this.connecting--;
        if (!this.stopping) this.stats.connectError(reasonOf(err));
        settle();
      }
    });
    ws.on("close", (code: number) => {
      if (retried) return;
      if (isOpen) {
        this.stats.open--;
        if (!this.stopping) this.stats.close(code);
      } else if (!failed) {
        failed = true;
        this.connecting--;
        if (!this.stopping) this.stats.connectError("closed_before_open");
      }
      settle();
      this.sockets[local] = undefined;
    });
  }

  /**
   * Read backpressure: past the per-turn frame budget a socket is paused and queued; each later
   * event-loop turn resumes only a few queued sockets (oldest first). Timers (ticks, the duration
   * bound) and IPC keep running when the client is saturated; unread data waits in the kernel and
   * on the server, which is what a slow reader looks like.
   */
  private charge(ws: WebSocket): void {
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
      for (const p of this.paused.splice(0, RESUME_PER_TURN)) if (p.readyState === WebSocket.OPEN) p.resume();
      if (this.paused.length > 0) this.scheduleResume();
    });
  }

  private onFrame(local: number, frame: EventFrame, settle: () => void): void {
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
      case "subscribed":
        this.stats.counters.subscribed++;
        this.tracker?.subscribed(local, epochNow());
        settle();
        return;
      case "error":
        this.stats.error(frame.error?.code ?? "error");
        settle();
        return;
      default:
        this.stats.counters.messages++;
    }
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
    const live = this.sockets.filter((s): s is WebSocket => s !== undefined);
    const closed = live.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once("close", () => resolve());
          if (ws.readyState === WebSocket.OPEN) ws.close(1000, "load test done");
          else ws.terminate();
        }),
    );
    const timer = setTimeout(() => {
      for (const ws of live) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    }, graceMs);
    const report = this.tracker?.report();
    await Promise.all(closed);
    clearTimeout(timer);
    return report;
  }
}
