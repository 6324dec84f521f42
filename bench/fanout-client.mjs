#!/usr/bin/env node
// A benchmark client process: opens N WebSocket connections to one URL (spread over local source
// addresses), subscribes each to one channel, and counts `order.created` deliveries with their
// publish-to-socket latency (receive time - data.createdAt). The parent drives it over IPC:
// {cmd:"reset"} zeroes the counters, {cmd:"report"} answers with them, {cmd:"exit"} closes all.
// Usage (forked): fanout-client.mjs <url> <sockets> <channel> <addr,addr,…> [tokens=<secret>:<n>]
// With tokens=…, socket i connects with `?token=` one of n HS256 tokens (sub bench-<i mod n>).
import { signToken } from "@orderstream/testkit";
import { createdAtOf, deliveryCounters, openCountedSockets, serveHarness } from "./fanout-client-control.mjs";

const [url, countArg, channel, addrArg, tokensArg] = process.argv.slice(2);
const [secret, users] = tokensArg?.startsWith("tokens=") ? tokensArg.slice(7).split(":") : [];
const tokens = secret ? Array.from({ length: Number(users) }, (_, i) => signToken(secret, { sub: `bench-${i}` })) : [];
const subscribeFrame = JSON.stringify({ type: "subscribe", channels: [channel] });
const c = deliveryCounters();
const sockets = await openCountedSockets({
  url,
  count: Number(countArg),
  addresses: (addrArg ?? "127.0.0.1").split(","),
  c,
  urlOf: (i) => (tokens.length ? `${url}?token=${tokens[i % tokens.length]}` : url),
  onOpen: (ws) => ws.send(subscribeFrame),
  onMessage: (_ws, s) => {
    if (s.startsWith('{"type":"order.created"')) c.delivered(createdAtOf(s));
    else if (s.startsWith('{"type":"subscribed"')) c.subscribed++;
  },
});
await serveHarness(c, () => {
  for (const ws of sockets) ws.terminate();
});
