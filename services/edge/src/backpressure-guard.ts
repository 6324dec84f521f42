import { CLOSE_CODE_TABLE } from "@orderstream/wire";
import type { Logger } from "./logger.js";
import type { EdgeMetrics } from "./metrics.js";
import type { EdgeSocket } from "./socket-state.js";

/**
 * Closes sockets whose send buffer passed the limit (4004 "slow consumer") so one slow reader
 * cannot grow the node's memory. app.publish does not report per-socket backpressure, so after
 * every publish the guard checks the sockets that had a backlog plus a few more round-robin
 * (detection keeps pace with traffic), and the periodic sweep checks the suspects and the next
 * eighth of the sockets (each socket at least every 8 sweeps: a bounded cost per sweep, where
 * walking every socket four times a second cost an idle node of a million sockets a core).
 */
/** The periodic sweep covers every socket in this many sweeps. */
const SWEEP_SLICES = 8;

export class BackpressureGuard {
  private readonly sockets = new Set<EdgeSocket>();
  /** Sockets that had a backlog when last looked at. */
  private readonly suspects = new Set<EdgeSocket>();
  private cursor: Iterator<EdgeSocket> = this.sockets.values();

  constructor(
    private readonly limitBytes: number,
    private readonly metrics: EdgeMetrics,
    private readonly log: Logger,
    private readonly perPublish = 64,
  ) {}

  /** Open sockets. */
  get size(): number {
    return this.sockets.size;
  }

  /** The open sockets, live (closing one while iterating is fine). */
  open(): IterableIterator<EdgeSocket> {
    return this.sockets.values();
  }

  /** Every open socket (for drain and stop). */
  all(): EdgeSocket[] {
    return [...this.sockets];
  }

  /** Starts watching a socket that just opened. */
  add(ws: EdgeSocket): void {
    this.sockets.add(ws);
  }

  /** Forgets a socket that closed. */
  delete(ws: EdgeSocket): void {
    this.sockets.delete(ws);
    this.suspects.delete(ws);
  }

  /** Checks one socket: closes it when over the limit, remembers it when it has a backlog. */
  check = (ws: EdgeSocket): void => {
    const st = ws.getUserData();
    if (st.closed) return;
    const buffered = ws.getBufferedAmount();
    if (buffered === 0) {
      this.suspects.delete(ws);
      return;
    }
    if (buffered < this.limitBytes) {
      this.suspects.add(ws);
      return;
    }
    this.suspects.delete(ws);
    this.metrics.slowConsumersClosed.inc();
    this.log.info({ socket: st.id, buffered }, "closing slow consumer");
    const c = CLOSE_CODE_TABLE.slowConsumer;
    ws.end(c.code, c.reason);
  };

  /** After a publish: the suspects, and the next few sockets round-robin. */
  afterPublish(): void {
    for (const ws of this.suspects) this.check(ws);
    this.checkNext(this.perPublish);
  }

  /** The periodic sweep: the suspects, and the next eighth of the sockets round-robin. */
  sweep(): void {
    for (const ws of this.suspects) this.check(ws);
    this.checkNext(Math.max(this.perPublish, Math.ceil(this.sockets.size / SWEEP_SLICES)));
  }

  private checkNext(count: number): void {
    for (let i = 0; i < count && i < this.sockets.size; i++) {
      let next = this.cursor.next();
      if (next.done) {
        this.cursor = this.sockets.values();
        next = this.cursor.next();
        if (next.done) return;
      }
      this.check(next.value);
    }
  }
}
