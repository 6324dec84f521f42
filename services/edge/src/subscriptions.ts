import type { ChannelFeed } from "@orderstream/bus";
import { type StreamPosition, parseChannel } from "@orderstream/domain";
import { maySubscribe } from "./auth.js";
import type { ChannelRegistry } from "./channel-registry.js";
import type { Logger } from "./logger.js";
import type { EdgeMetrics } from "./metrics.js";
import { type ErrorCode, errorFrame, subscribedFrame, unsubscribedFrame } from "./protocol.js";
import type { EdgeSocket } from "./socket-state.js";

/** What subscribe handling needs from the node. */
export interface SubscriptionDeps {
  registry: ChannelRegistry;
  feed: Pick<ChannelFeed, "catchUp" | "position">;
  metrics: EdgeMetrics;
  log: Logger;
  maxChannelsPerConn: number;
  anonymousAllOrders: boolean;
  /** Called after frames were sent to a socket directly (catch-up): the slow-consumer check. */
  afterSend: (ws: EdgeSocket) => void;
}

/** Sends an error frame to an open socket and counts it. */
export function sendError(ws: EdgeSocket, metrics: EdgeMetrics, code: ErrorCode, message: string): void {
  metrics.errors.inc({ code });
  if (!ws.getUserData().closed) ws.send(errorFrame(code, message), false);
}

/**
 * A socket's `subscribe`: validates every channel (name, permission, per-socket limit) and
 * rejects the whole frame on the first problem; then takes the channels in the registry, and per
 * channel sends the catch-up frames and joins the live topic in one corked synchronous step, so
 * the socket sees no gap and no duplicate. Replies `subscribed` (or `error`, rolled back).
 */
export async function subscribe(
  ws: EdgeSocket,
  deps: SubscriptionDeps,
  requested: string[],
  since: Map<string, StreamPosition>,
): Promise<void> {
  const st = ws.getUserData();
  const unique = [...new Set(requested)];
  for (const name of unique) {
    const ch = parseChannel(name);
    if (!ch) return sendError(ws, deps.metrics, "bad_channel", `invalid channel name ${JSON.stringify(name.slice(0, 64))}`);
    if (!maySubscribe(st.who, ch, deps.anonymousAllOrders))
      return sendError(ws, deps.metrics, "forbidden", `not allowed to subscribe to ${name}`);
  }
  const fresh = unique.filter((ch) => !st.subs.has(ch));
  if (st.subs.size + fresh.length > deps.maxChannelsPerConn)
    return sendError(ws, deps.metrics, "too_many_channels", `at most ${deps.maxChannelsPerConn} channels per connection`);
  for (const ch of fresh) st.subs.set(ch, null);

  const acquired = await Promise.allSettled(fresh.map((ch) => deps.registry.acquire(ch)));
  const failed = acquired.find((r) => r.status === "rejected");
  if (st.closed || failed) {
    acquired.forEach((r, i) => {
      if (r.status === "fulfilled") r.value();
      if (st.subs.get(fresh[i] as string) === null) st.subs.delete(fresh[i] as string);
    });
    if (failed && !st.closed) {
      deps.log.warn({ err: failed.reason, socket: st.id, channels: fresh }, "subscribe failed, rolled back");
      sendError(ws, deps.metrics, "unavailable", "subscription backend unavailable, try again");
    }
    return;
  }

  let recovered = true;
  let broken = false;
  const joined: string[] = [];
  const offsets = new Map<string, StreamPosition>();
  await Promise.all(
    fresh.map(async (ch, i) => {
      const release = (acquired[i] as PromiseFulfilledResult<() => void>).value;
      let r;
      try {
        r = await deps.feed.catchUp(ch, resumePoint(deps, ch, since.get(ch)));
      } catch (err) {
        deps.log.error({ err, socket: st.id, channel: ch }, "catch-up failed");
        r = undefined;
      }
      // Same synchronous continuation as the catch-up: no frame can slip in between.
      if (st.closed || st.subs.get(ch) !== null || !r) {
        release();
        if (st.subs.get(ch) === null) st.subs.delete(ch);
        if (!r) broken = true;
        return;
      }
      st.subs.set(ch, release);
      joined.push(ch);
      if (since.has(ch) && !r.recovered) recovered = false;
      offsets.set(ch, r.position);
      const frames = r.frames;
      ws.cork(() => {
        for (const f of frames) ws.send(f, false);
        ws.subscribe(ch);
      });
      deps.metrics.messagesOut.inc(frames.length);
      deps.metrics.subscriptions.inc();
    }),
  );
  if (st.closed) return;
  if (broken) {
    // All or nothing: leave what this frame joined, so the client can simply retry it.
    for (const ch of joined) {
      const release = st.subs.get(ch);
      if (!release) continue;
      st.subs.delete(ch);
      ws.unsubscribe(ch);
      release();
      deps.metrics.subscriptions.dec();
    }
    sendError(ws, deps.metrics, "unavailable", "subscription backend unavailable, try again");
    return;
  }
  ws.send(subscribedFrame(unique, recovered, offsets), false);
  deps.afterSend(ws);
}

/**
 * `since` as the feed understands it. ":0" (a channel that had no history when the client last
 * looked) means "everything of the channel's current epoch", i.e. from sequence 0 of it.
 */
function resumePoint(deps: SubscriptionDeps, channel: string, since: StreamPosition | undefined): StreamPosition | undefined {
  if (!since || since.epoch !== "") return since;
  const epoch = deps.feed.position(channel)?.epoch ?? "";
  return epoch === "" ? since : { epoch, seq: 0 };
}

/** A socket's `unsubscribe`: leaves the topics, releases the channels, replies `unsubscribed`. */
export function unsubscribe(ws: EdgeSocket, deps: SubscriptionDeps, channels: string[]): void {
  const st = ws.getUserData();
  for (const name of channels)
    if (!parseChannel(name))
      return sendError(ws, deps.metrics, "bad_channel", `invalid channel name ${JSON.stringify(name.slice(0, 64))}`);
  for (const ch of new Set(channels)) {
    const release = st.subs.get(ch);
    if (release === undefined) continue;
    st.subs.delete(ch); // a subscribe still in flight sees this and rolls itself back
    if (release) {
      ws.unsubscribe(ch);
      release();
      deps.metrics.subscriptions.dec();
    }
  }
  ws.send(unsubscribedFrame(channels), false);
}

/** Releases every channel of a socket that closed (uWS already dropped its topics). */
export function releaseAll(ws: EdgeSocket, deps: Pick<SubscriptionDeps, "metrics">): void {
  const st = ws.getUserData();
  for (const release of st.subs.values()) {
    if (!release) continue; // in flight: the subscribe continuation sees `closed` and releases
    release();
    deps.metrics.subscriptions.dec();
  }
  st.subs.clear();
}
