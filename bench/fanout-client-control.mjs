// The part every fan-out client process shares (bench/fanout-client.mjs and its Socket.IO and gRPC
// variants in bench/peers/): delivery counters with a publish-to-client latency histogram, and the
// IPC protocol the harness (bench/fanout-harness.mjs) drives: ready, then reset / report / exit.
import hdr from "hdr-histogram-js";
import WebSocket from "ws";

/** Counters of one client process; `delivered(createdAtMs)` records one event. */
export function deliveryCounters() {
  const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 });
  return {
    hist,
    received: 0,
    subscribed: 0,
    open: 0,
    closes: {},
    delivered(createdAtMs) {
      this.received++;
      if (Number.isFinite(createdAtMs)) hist.recordValue(Math.max(1, Date.now() - createdAtMs));
    },
    closed(code) {
      this.closes[code] = (this.closes[code] ?? 0) + 1;
    },
  };
}

/** `createdAt` of an event frame's order, read without parsing the whole frame (NaN if absent). */
export function createdAtOf(text) {
  const i = text.indexOf('"createdAt":"');
  return i < 0 ? Number.NaN : Date.parse(text.slice(i + 13, i + 37));
}

/**
 * Opens `count` WebSockets to `url`, 250 at a time, spread over the source `addresses`, counting
 * opens and closes in `c`; `onOpen(ws)` and `onMessage(ws, text)` speak the server's protocol;
 * `urlOf(i)`, when given, is the URL of the i-th socket (e.g. with its own token); `perMessageDeflate`
 * makes each socket offer permessage-deflate (off by default: the fan-out benchmarks measure plain frames).
 * Resolves with the sockets once every one opened or failed.
 */
export async function openCountedSockets({ url, count, addresses, c, onOpen, onMessage, urlOf = /** @param {number} _i */ (_i) => url, perMessageDeflate = false }) {
  const sockets = [];
  const connect = (i) =>
    new Promise((resolve) => {
      const ws = new WebSocket(urlOf(i), { localAddress: addresses[i % addresses.length], perMessageDeflate, handshakeTimeout: 10_000 });
      let opened = false;
      ws.on("open", () => {
        opened = true;
        c.open++;
        onOpen(ws);
        resolve(undefined);
      });
      ws.on("message", (data) => onMessage(ws, data.toString()));
      ws.on("error", () => resolve(undefined));
      ws.on("close", (code) => {
        if (opened) c.open--;
        c.closed(code);
      });
      sockets.push(ws);
    });
  for (let i = 0; i < count; i += 250) {
    await Promise.all(Array.from({ length: Math.min(250, count - i) }, (_, k) => connect(i + k)));
  }
  return sockets;
}

/**
 * Waits (at most `waitMs`) until every open connection is subscribed, tells the harness it is
 * ready, and serves reset / report / exit; `shutdown()` closes the connections before exit.
 * `hooks.reset()` runs on reset, and `hooks.report()`'s fields are added to each report.
 */
export async function serveHarness(c, shutdown, waitMs = 30_000, hooks = { reset: () => undefined, report: () => ({}) }) {
  const deadline = Date.now() + waitMs;
  while (c.subscribed < c.open && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  process.send?.({ type: "ready", open: c.open, subscribed: c.subscribed });
  process.on("message", (/** @type {any} */ m) => {
    if (m.cmd === "reset") {
      c.received = 0;
      c.hist.reset();
      hooks.reset();
      process.send?.({ type: "reset" });
    } else if (m.cmd === "report") {
      const { open, subscribed, received, closes } = c;
      process.send?.({ type: "report", open, subscribed, received, closes, histogram: hdr.encodeIntoCompressedBase64(c.hist), ...hooks.report() });
    } else if (m.cmd === "exit") {
      shutdown();
      process.exit(0);
    }
  });
}
