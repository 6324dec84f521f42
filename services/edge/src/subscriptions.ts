import type { ChannelFeed } from "@orderstream/bus";
import { type ErrorCode, type RequestId, errorFrame, parseChannel, subscribedFrame, unsubscribedFrame } from "@orderstream/wire";
import { maySubscribe } from "./auth.js";
import type { Logger } from "./logger.js";
import type { EdgeMetrics } from "./metrics.js";
import type { Outbound } from "./outbound.js";
import { type EdgeSocket, channelState, finishJoining, forgetChannel, heldCount, startJoining } from "./socket-state.js";

/** What subscribe handling needs from the node. */
export interface SubscriptionDeps {
  /** The node's channel subscriptions: one reference per socket subscription. */
  feed: Pick<ChannelFeed, "acquire" | "release" | "catchUp">;
  metrics: EdgeMetrics;
  log: Logger;
  /** Every frame to a socket goes out through it (checked against its schema in tests). */
  out: Outbound;
  maxChannelsPerConn: number;
  anonymousAllOrders: boolean;
  /** Called after frames were sent to a socket directly (catch-up): the slow-consumer check. */
  afterSend: (ws: EdgeSocket) => void;
}

/** Sends an error frame (answering request `id`, if any) to an open socket and counts it. */
export function sendError(ws: EdgeSocket, deps: Pick<SubscriptionDeps, "metrics" | "out">, code: ErrorCode, message: string, id?: RequestId): void {
  deps.metrics.errors.inc({ code });
  if (!ws.getUserData().closed) deps.out.send(ws, errorFrame(code, message, id));
}

/**
 * A socket's `subscribe`: validates every channel (name, permission, per-socket limit) and
 * rejects the whole frame on the first problem; then takes a feed reference per channel, and per
 * channel sends the catch-up frames and joins the live topic in one corked synchronous step, so
 * the socket sees no gap and no duplicate. Replies `subscribed` (or `error`, rolled back).
 */
export async function subscribe(
  ws: EdgeSocket,
  deps: SubscriptionDeps,
  requested: string[],
  since: Map<string, string>,
  id: RequestId | undefined,
): Promise<void> {
  const st = ws.getUserData();
  const unique = [...new Set(requested)];
  for (const name of unique) {
    const ch = parseChannel(name);
    if (!ch) return sendError(ws, deps, "bad_channel", `invalid channel name ${JSON.stringify(name.slice(0, 64))}`, id);
    if (!maySubscribe(st.who, ch, deps.anonymousAllOrders)) return sendError(ws, deps, "forbidden", `not allowed to subscribe to ${name}`, id);
  }
  const fresh = unique.filter((ch) => channelState(st, ch) === undefined);
  if (heldCount(st) + fresh.length > deps.maxChannelsPerConn)
    return sendError(ws, deps, "too_many_channels", `at most ${deps.maxChannelsPerConn} channels per connection`, id);
  for (const ch of fresh) startJoining(st, ch);

  const acquired = await Promise.allSettled(fresh.map((ch) => deps.feed.acquire(ch)));
  const failed = acquired.find((r) => r.status === "rejected");
  if (st.closed || failed) {
    acquired.forEach((r, i) => {
      const ch = fresh[i] as string;
      if (r.status === "fulfilled") deps.feed.release(ch);
      if (channelState(st, ch) === "joining") forgetChannel(st, ch);
    });
    if (failed && !st.closed) {
      deps.log.warn({ err: failed.reason, socket: st.id, channels: fresh }, "subscribe failed, rolled back");
      sendError(ws, deps, "unavailable", "subscription backend unavailable, try again", id);
    }
    return;
  }

  let recovered = true;
  let broken = false;
  const joined: string[] = [];
  const offsets = new Map<string, string>();
  await Promise.all(
    fresh.map(async (ch) => {
      let r;
      try {
        r = await deps.feed.catchUp(ch, since.get(ch));
      } catch (err) {
        deps.log.error({ err, socket: st.id, channel: ch }, "catch-up failed");
        r = undefined;
      }
      // Same synchronous continuation as the catch-up: no frame can slip in between.
      if (st.closed || channelState(st, ch) !== "joining" || !r) {
        deps.feed.release(ch);
        if (channelState(st, ch) === "joining") forgetChannel(st, ch);
        if (!r) broken = true;
        return;
      }
      finishJoining(st, ch);
      joined.push(ch);
      if (since.has(ch)) {
        if (!r.recovered) recovered = false;
        deps.metrics.resumes.inc({ recovered: String(r.recovered) });
      }
      offsets.set(ch, r.offset);
      const frames = r.frames;
      ws.cork(() => {
        for (const f of frames) deps.out.send(ws, f);
        ws.subscribe(ch);
      });
      deps.metrics.messagesOut.inc(frames.length);
      deps.metrics.subscriptions.inc();
    }),
  );
  if (st.closed) return;
  if (broken) {
    // All or nothing: leave what this frame joined, so the client can simply retry it.
    for (const ch of joined) leave(ws, deps, ch);
    sendError(ws, deps, "unavailable", "subscription backend unavailable, try again", id);
    return;
  }
  deps.out.send(ws, subscribedFrame(unique, recovered, Object.fromEntries(offsets), id));
  deps.afterSend(ws);
}

/** Leaves a joined channel: its topic and its feed reference (once: the entry goes first). */
function leave(ws: EdgeSocket, deps: SubscriptionDeps, ch: string): void {
  const st = ws.getUserData();
  if (channelState(st, ch) !== "joined") return;
  forgetChannel(st, ch);
  if (!st.closed) ws.unsubscribe(ch);
  deps.feed.release(ch);
  deps.metrics.subscriptions.dec();
}

/** A socket's `unsubscribe`: leaves the topics, releases the channels, replies `unsubscribed`. */
export function unsubscribe(ws: EdgeSocket, deps: SubscriptionDeps, channels: string[], id: RequestId | undefined): void {
  const st = ws.getUserData();
  for (const name of channels)
    if (!parseChannel(name)) return sendError(ws, deps, "bad_channel", `invalid channel name ${JSON.stringify(name.slice(0, 64))}`, id);
  for (const ch of new Set(channels)) {
    // A subscribe still in flight sees its entry gone and rolls itself back.
    if (channelState(st, ch) === "joining") forgetChannel(st, ch);
    else leave(ws, deps, ch);
  }
  deps.out.send(ws, unsubscribedFrame(channels, id));
}

/** Releases every channel of a socket that closed (uWS already dropped its topics). */
export function releaseAll(ws: EdgeSocket, deps: Pick<SubscriptionDeps, "feed" | "metrics">): void {
  const st = ws.getUserData();
  // Channels still joining are released by their subscribe continuation, which sees `closed`.
  for (const ch of st.joined) {
    deps.feed.release(ch);
    deps.metrics.subscriptions.dec();
  }
  st.joined = [];
  st.joining = null;
}
