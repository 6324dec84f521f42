import { randomUUID } from "node:crypto";
import { CONTROL_CHANNEL, controlReplyChannel } from "../layout/keys.js";
import type { RedisConnection } from "../runtime/redis-connection.js";

/** How long a request waits for the nodes' replies at most (it ends sooner once every receiver answered). */
export const CONTROL_REPLY_WINDOW_MS = 500;

/** A control request as it travels on {@link CONTROL_CHANNEL}. */
interface RequestMessage {
  rid: string;
  kind: string;
  args: Record<string, unknown>;
  /** Where to publish the reply. */
  reply: string;
}

/** A reply as it travels on a requester's reply channel. */
interface ReplyMessage {
  rid: string;
  body: unknown;
}

/** Answers one control request on this node; what it returns (or resolves) is the reply's body. */
export type ControlHandler = (kind: string, args: Record<string, unknown>) => unknown;

/** What a request came to: one reply body per node that answered, and how many nodes received it. */
export interface ControlOutcome<T> {
  replies: T[];
  receivers: number;
}

interface Pending {
  replies: unknown[];
  want: number;
  done: () => void;
}

/**
 * A request/collect channel between the nodes of one service (the edges), over Redis pub/sub:
 * a request is published on {@link CONTROL_CHANNEL}, every subscribed node (the requester too)
 * handles it and publishes its answer on the requester's own reply channel. PUBLISH / SPUBLISH
 * returns how many nodes received the request, so the requester stops collecting as soon as that
 * many answered, else after the reply window. Plain SUBSCRIBE on one node, SSUBSCRIBE on a
 * Cluster (both channels share one hash tag, one shard). `sub` must be a subscriber connection
 * (the edge's broker shares it: it ignores channels outside its own).
 */
export class ControlChannel {
  private readonly replyChannel = controlReplyChannel(randomUUID());
  private readonly pending = new Map<string, Pending>();
  private handler: ControlHandler | undefined;
  private readonly onMessage = (channel: string, message: string): void => {
    if (channel === CONTROL_CHANNEL) void this.answer(message);
    else if (channel === this.replyChannel) this.collect(message);
  };

  constructor(
    private readonly sub: RedisConnection,
    private readonly cmd: RedisConnection,
    private readonly opts: { sharded: boolean; onError: (err: unknown, what: string) => void },
  ) {}

  /** Starts answering requests with `handler` and listening for replies. */
  async start(handler: ControlHandler): Promise<void> {
    this.handler = handler;
    this.sub.on(this.opts.sharded ? "smessage" : "message", this.onMessage);
    if (this.opts.sharded) await this.sub.ssubscribe(CONTROL_CHANNEL, this.replyChannel);
    else await this.sub.subscribe(CONTROL_CHANNEL, this.replyChannel);
  }

  /**
   * Stops answering; requests still collecting end with what they have. The unsubscribe is waited
   * for only while the connection is up: with Redis down it would wait for the reconnect (and a
   * lost connection's subscriptions are gone anyway).
   */
  async stop(): Promise<void> {
    this.sub.off(this.opts.sharded ? "smessage" : "message", this.onMessage);
    for (const p of this.pending.values()) p.done();
    const unsubscribe = (
      this.opts.sharded
        ? this.sub.sunsubscribe(CONTROL_CHANNEL, this.replyChannel)
        : this.sub.unsubscribe(CONTROL_CHANNEL, this.replyChannel)
    ).catch(() => undefined);
    if (this.sub.status === "ready") await unsubscribe;
  }

  /** Sends a request to every node and collects their replies (at most `windowMs`). */
  async request<T>(kind: string, args: Record<string, unknown>, windowMs = CONTROL_REPLY_WINDOW_MS): Promise<ControlOutcome<T>> {
    const rid = randomUUID();
    const entry: Pending = { replies: [], want: Number.POSITIVE_INFINITY, done: () => undefined };
    const finished = new Promise<void>((resolve) => {
      const timer = setTimeout(() => entry.done(), windowMs);
      entry.done = () => {
        clearTimeout(timer);
        this.pending.delete(rid);
        resolve();
      };
    });
    this.pending.set(rid, entry);
    const msg: RequestMessage = { rid, kind, args, reply: this.replyChannel };
    let receivers: number;
    try {
      receivers = Number(await this.publish(CONTROL_CHANNEL, JSON.stringify(msg)));
    } catch (err) {
      entry.done();
      throw err;
    }
    entry.want = receivers;
    if (entry.replies.length >= receivers) entry.done();
    await finished;
    return { replies: entry.replies as T[], receivers };
  }

  private publish(channel: string, message: string): Promise<unknown> {
    return this.opts.sharded ? this.cmd.spublish(channel, message) : this.cmd.publish(channel, message);
  }

  private async answer(text: string): Promise<void> {
    let req: RequestMessage;
    try {
      req = JSON.parse(text) as RequestMessage;
    } catch (err) {
      this.opts.onError(err, "control request is not JSON");
      return;
    }
    try {
      const body: unknown = await this.handler?.(req.kind, req.args ?? {});
      const reply: ReplyMessage = { rid: req.rid, body: body ?? null };
      await this.publish(req.reply, JSON.stringify(reply));
    } catch (err) {
      this.opts.onError(err, `answering control request ${req.kind}`);
    }
  }

  private collect(text: string): void {
    try {
      const reply = JSON.parse(text) as ReplyMessage;
      const p = this.pending.get(reply.rid);
      if (!p) return;
      p.replies.push(reply.body);
      if (p.replies.length >= p.want) p.done();
    } catch (err) {
      this.opts.onError(err, "control reply is not JSON");
    }
  }
}
