#!/usr/bin/env node
// One client process of bench:million (bench/million.mjs forks up to ~60 of them): holds a range
// of sockets on the load tool's lean raw WebSocket client, each with its own user and token
// (`connect` frame), subscribed to orders.user.m<i> and, for a share of them, orders.status.
// Driven over IPC:
//   {cmd:"init", url, start, count, statusShare, secret, addresses, perAddress, pool, rampPerS}
//   {cmd:"grow", to}       open sockets up to local index `to` at rampPerS (bounded: MAX_CONNECTING in flight)
//   {cmd:"hold"}           stop opening (the driver's memory guard)
//   {cmd:"reset"}          zero the delivery counters and histogram
//   {cmd:"churn", perS, seconds}  close and reopen pool sockets (resume with `since`) at perS
//   {cmd:"expect", orders:[[local, orderId], …]}  pool orders to account for at the next report
//   {cmd:"report"}         counters, RSS, the encoded histogram, the pool's lost/duplicated
//   {cmd:"exit"}
// Sockets the server closes with a reconnect code (1001 drain, 1006, 1011, 4503) reconnect after
// a random 0–2 s, resuming pool sockets from their offsets, as the SDK does.
import hdr from "hdr-histogram-js";
import { signJwt } from "../packages/loadgen/dist/jwt.js";
import { RAW, RawWebSocket, rawTarget } from "../packages/loadgen/dist/raw-socket.js";
import { sourceFor } from "../packages/loadgen/dist/target.js";

const MAX_CONNECTING = 100;
const TICK_MS = 20;
const RECONNECT_CODES = new Set([1001, 1006, 1011, 4503]);
const CREATED = Buffer.from('{"type":"order.created"');
const STATUS = Buffer.from('{"type":"order.status","channel":"orders.status"');
const OPEN = 1;
const SUBSCRIBED = 2;
const OURS = 4; // closed by us (churn): reopened by the churn loop, not by the reconnect rule
const WAS_OPEN = 8; // opened once: a failed connect is a reconnect, retried with backoff
const MAX_RETRIES = 10;

/** @type {any} */
let cfg;
/** @type {any} */
let target;
/** @type {(RawWebSocket | undefined)[]} */
const sockets = [];
/** @type {Uint8Array} */
let flags = new Uint8Array(0);
/** @type {Uint8Array} */
let retries = new Uint8Array(0);
/** @type {Float64Array} */
let startedAt = new Float64Array(0);
let opened = 0;
let growTo = 0;
let connecting = 0;
let held = false;
const c = newCounters();
/** Pool sockets (locals < cfg.pool): last offset of the user channel, received order ids. */
/** @type {(string | undefined)[]} */
const offsets = [];
/** @type {Set<string>[]} */
const seen = [];
/** @type {[number, string][]} */
let expected = [];
/** Expected orders whose socket never connected (its connect failed): no delivery to count. */
let noSocket = 0;

function newCounters() {
  return {
    open: 0,
    subscribed: 0,
    connects: 0,
    reconnects: 0,
    churned: 0,
    resumed: 0,
    notRecovered: 0,
    failures: /** @type {Record<string, number>} */ ({}),
    reconnectFailures: /** @type {Record<string, number>} */ ({}),
    portRetries: /** @type {Record<string, number>} */ ({}),
    closes: /** @type {Record<string, number>} */ ({}),
    errors: /** @type {Record<string, number>} */ ({}),
    created: 0,
    status: 0,
    statusFirst: 0,
    statusLast: 0,
    duplicates: 0,
    hist: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 }),
    connectHist: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000, numberOfSignificantValueDigits: 3 }),
  };
}

const bump = (/** @type {Record<string, number>} */ m, /** @type {string} */ k) => void (m[k] = (m[k] ?? 0) + 1);
const userOf = (/** @type {number} */ local) => `m${cfg.start + local}`;
const channelsOf = (/** @type {number} */ local) =>
  (cfg.start + local) % 1000 < cfg.statusShare * 1000
    ? [`orders.user.${userOf(local)}`, "orders.status"]
    : [`orders.user.${userOf(local)}`];

/** A socket's subscribe: its channels, resuming its user channel from the last offset it saw (pool sockets). */
function subscribeFrame(/** @type {number} */ local) {
  const channels = channelsOf(local);
  const since = offsets[local] !== undefined ? { [channels[0]]: offsets[local] } : undefined;
  return JSON.stringify({ type: "subscribe", channels, ...(since ? { since } : {}) });
}

const handler = {
  /** @param {RawWebSocket<number>} ws */
  open(ws) {
    const local = ws.data;
    connecting--;
    flags[local] = (flags[local] & OURS) | OPEN | WAS_OPEN;
    retries[local] = 0;
    c.open++;
    c.connects++;
    c.connectHist.recordValue(Math.max(1, Math.round(performance.now() - startedAt[local])));
    const token = signJwt({ sub: userOf(local) }, cfg.secret);
    ws.sendFrames([JSON.stringify({ type: "connect", token }), subscribeFrame(local)]);
  },
  /** @param {RawWebSocket<number>} ws @param {Buffer} data */
  text(ws, data) {
    const local = ws.data;
    if (data.subarray(0, STATUS.length).equals(STATUS)) {
      const now = Date.now();
      if (c.status++ === 0) c.statusFirst = now;
      c.statusLast = now;
      return;
    }
    if (data.subarray(0, CREATED.length).equals(CREATED)) {
      const s = data.toString();
      c.created++;
      const at = s.indexOf('"createdAt":"');
      if (at > 0) c.hist.recordValue(Math.max(1, Date.now() - Date.parse(s.slice(at + 13, at + 37))));
      if (local < cfg.pool) track(local, s);
      return;
    }
    const s = data.toString();
    if (s.startsWith('{"type":"subscribed"')) {
      flags[local] |= SUBSCRIBED;
      c.subscribed++;
      if (local < cfg.pool) {
        const f = JSON.parse(s);
        const off = f.offsets?.[`orders.user.${userOf(local)}`];
        if (offsets[local] !== undefined) {
          c.resumed++;
          if (f.recovered === false) c.notRecovered++;
        }
        if (off !== undefined && offsets[local] === undefined) offsets[local] = off;
      }
    } else if (s.startsWith('{"type":"error"')) {
      const code = JSON.parse(s).error?.code ?? "error";
      bump(c.errors, code);
      // the subscribe did not go through (Redis busy): send it again after a pause, as the SDK does
      if (code === "unavailable" && !(flags[local] & SUBSCRIBED))
        setTimeout(
          () => {
            if (sockets[local] === ws && ws.state === RAW.open) ws.send(subscribeFrame(local));
          },
          1000 + Math.random() * 2000,
        );
    } else if (s.startsWith('{"type":"order.status"') && local < cfg.pool) track(local, s);
  },
  /** @param {RawWebSocket<number>} ws @param {number} code @param {string | undefined} failure */
  close(ws, code, failure) {
    const local = ws.data;
    if (sockets[local] === ws) sockets[local] = undefined;
    const was = flags[local];
    flags[local] = was & (OURS | WAS_OPEN);
    if (failure !== undefined) {
      connecting--;
      // the planned source port is taken (another program listens on it): once more from a spare one
      if (!(was & WAS_OPEN) && (failure === "EADDRINUSE" || failure === "EADDRNOTAVAIL") && retries[local] === 0 && !exiting) {
        retries[local] = 1;
        bump(c.portRetries, failure);
        return connect(local, true);
      }
      if (!(was & WAS_OPEN)) return void bump(c.failures, failure);
      // a reconnect that failed (e.g. 503 from a full or draining worker): back off and retry, as the SDK does
      bump(c.reconnectFailures, failure);
      if (retries[local] < MAX_RETRIES && !exiting) {
        retries[local]++;
        setTimeout(() => reopen(local, true), 500 * 2 ** Math.min(retries[local], 4) * (0.5 + Math.random()));
      }
      return;
    }
    c.open--;
    if (was & SUBSCRIBED) c.subscribed--;
    bump(c.closes, String(code));
    if (was & OURS) {
      flags[local] = WAS_OPEN;
      c.churned++;
      reopen(local);
    } else if (RECONNECT_CODES.has(code) && !exiting) {
      c.reconnects++;
      setTimeout(() => reopen(local), Math.random() * 2000);
    }
  },
};

/** A pool socket's event: its offset moves on; an order id seen twice is a duplicate. */
function track(/** @type {number} */ local, /** @type {string} */ s) {
  const o = s.indexOf('"offset":"');
  if (o > 0) offsets[local] = s.slice(o + 10, s.indexOf('"', o + 10));
  if (!s.startsWith('{"type":"order.created"')) return;
  const i = s.indexOf('"id":"');
  const id = s.slice(i + 6, s.indexOf('"', i + 6));
  const set = (seen[local] ??= new Set());
  if (set.has(id)) c.duplicates++;
  else set.add(id);
}

/** Ports above the planned ones (1024 + perAddress …): a retry's source, so its 4-tuple (and the kernel's SO_REUSEPORT pick) changes. */
const SPARE_FROM = 27_000;
const SPARE_PORTS = 5_700;
function connect(/** @type {number} */ local, spare = false) {
  startedAt[local] = performance.now();
  connecting++;
  const src = sourceFor(cfg.start + local, cfg.addresses, cfg.perAddress);
  if (spare && src.localAddress !== undefined) src.localPort = SPARE_FROM + Math.floor(Math.random() * SPARE_PORTS);
  sockets[local] = new RawWebSocket(target, local, handler, src, 15_000);
}

function reopen(/** @type {number} */ local, spare = false) {
  if (!exiting && sockets[local] === undefined) connect(local, spare);
}

let rampStart = 0;
let rampFrom = 0;
function rampTick() {
  if (held || opened >= growTo) return;
  const due = Math.min(growTo, rampFrom + Math.floor(((performance.now() - rampStart) / 1000) * cfg.rampPerS) + 1);
  for (let n = 0; n < 200 && opened < due && connecting < MAX_CONNECTING; n++) connect(opened++);
}

let churnTimer;
function churn(/** @type {number} */ perS, /** @type {number} */ seconds) {
  const t0 = performance.now();
  let done = 0;
  let next = 0;
  clearInterval(churnTimer);
  churnTimer = setInterval(() => {
    const elapsed = (performance.now() - t0) / 1000;
    if (elapsed >= seconds) return clearInterval(churnTimer);
    const due = Math.floor(elapsed * perS);
    for (let k = 0; done < due && k < cfg.pool; k++) {
      const local = next;
      next = (next + 1) % cfg.pool;
      const ws = sockets[local];
      if (!ws || ws.state !== RAW.open || !(flags[local] & SUBSCRIBED)) continue;
      flags[local] |= OURS;
      ws.close(1000);
      done++;
    }
  }, 50);
}

function report() {
  let lost = 0;
  for (const [local, id] of expected) if (!seen[local]?.has(id)) lost++;
  const received = expected.length - lost;
  return {
    opened,
    connecting,
    open: c.open,
    subscribed: c.subscribed,
    connects: c.connects,
    reconnects: c.reconnects,
    churned: c.churned,
    resumed: c.resumed,
    notRecovered: c.notRecovered,
    failures: c.failures,
    reconnectFailures: c.reconnectFailures,
    closes: c.closes,
    errors: c.errors,
    created: c.created,
    status: c.status,
    statusFirst: c.statusFirst,
    statusLast: c.statusLast,
    poolExpected: expected.length,
    poolReceived: received,
    poolLost: lost,
    poolNoSocket: noSocket,
    duplicates: c.duplicates,
    histogram: hdr.encodeIntoCompressedBase64(c.hist),
    connectHistogram: hdr.encodeIntoCompressedBase64(c.connectHist),
  };
}

let exiting = false;
setInterval(rampTick, TICK_MS);
process.on("disconnect", () => process.exit(0));
process.on("message", (/** @type {any} */ m) => {
  if (m.cmd === "init") {
    cfg = m;
    target = rawTarget(m.url);
    flags = new Uint8Array(m.count);
    startedAt = new Float64Array(m.count);
    retries = new Uint8Array(m.count);
    process.send?.({ type: "init" });
  } else if (m.cmd === "grow") {
    held = false;
    growTo = Math.min(cfg.count, m.to);
    rampStart = performance.now();
    rampFrom = opened;
    process.send?.({ type: "grow" });
  } else if (m.cmd === "hold") {
    held = true;
    process.send?.({ type: "hold" });
  } else if (m.cmd === "reset") {
    c.created = 0;
    c.status = 0;
    c.statusFirst = 0;
    c.statusLast = 0;
    c.hist.reset();
    c.connectHist.reset();
    c.connects = 0;
    c.failures = {};
    c.reconnectFailures = {};
    c.closes = {};
    c.errors = {};
    process.send?.({ type: "reset" });
  } else if (m.cmd === "churn") {
    churn(m.perS, m.seconds);
    process.send?.({ type: "churn" });
  } else if (m.cmd === "expect") {
    if (m.reset) {
      expected = [];
      noSocket = 0;
    }
    for (const o of m.orders) {
      if (flags[o[0]] & WAS_OPEN) expected.push(o);
      else noSocket++;
    }
    process.send?.({ type: "expect" });
  } else if (m.cmd === "report") {
    process.send?.({ type: "report", ...report() });
  } else if (m.cmd === "exit") {
    exiting = true;
    for (const ws of sockets) ws?.terminate();
    setTimeout(() => process.exit(0), 200);
  }
});
process.send?.({ type: "ready" });
