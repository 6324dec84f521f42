#!/usr/bin/env node
// A recovery-benchmark client process: opens N raw WebSocket connections (from one local source
// address), each subscribed to one channel, and keeps every one of them resumed across node loss:
// on close it reconnects with full-jitter backoff to the next URL and sends `since` with the last
// offset it saw. It checks each socket's sequence (gaps, duplicates) and, after the parent's
// {cmd:"mark"}, records when each dropped socket was subscribed again with recovered:true.
// Driven over IPC: {cmd:"mark", at}, {cmd:"report"}, {cmd:"exit"}.
// Usage (forked): recovery-client.mjs <json config>
import WebSocket from "ws";

const cfg = JSON.parse(process.argv[2] ?? "{}");
const { urls, count, channels, localAddress, token, minDelayMs = 500, maxDelayMs = 10_000 } = cfg;
const sockets = [];
let markAt = 0;
const stats = { received: 0, gaps: 0, duplicates: 0, recoveredFalse: 0, closes: {}, connectErrors: 0 };

function offsetOf(s) {
  const i = s.indexOf('"offset":"');
  if (i < 0) return undefined;
  const off = s.slice(i + 10, s.indexOf('"', i + 10));
  const c = off.lastIndexOf(":");
  return { offset: off, epoch: off.slice(0, c), seq: Number(off.slice(c + 1)) };
}

function dial(sock) {
  const url = `${urls[sock.urlIndex % urls.length]}?token=${token}`;
  const ws = new WebSocket(url, { localAddress, perMessageDeflate: false, handshakeTimeout: 10_000 });
  sock.ws = ws;
  ws.on("open", () => {
    sock.open = true;
    const frame = { type: "subscribe", channels: [sock.channel] };
    if (sock.last) frame.since = { [sock.channel]: sock.last.offset };
    ws.send(JSON.stringify(frame));
  });
  ws.on("message", (data) => {
    const s = data.toString();
    if (s.startsWith('{"type":"order.')) {
      const pos = offsetOf(s);
      if (!pos) return;
      stats.received++;
      const last = sock.last;
      if (last && last.epoch === pos.epoch) {
        if (pos.seq <= last.seq) return void stats.duplicates++;
        if (pos.seq !== last.seq + 1) stats.gaps++;
      }
      sock.last = pos;
    } else if (s.startsWith('{"type":"subscribed"')) {
      const f = JSON.parse(s);
      const off = f.offsets?.[sock.channel];
      if (off && off !== ":0") {
        const c = off.lastIndexOf(":");
        const pos = { offset: off, epoch: off.slice(0, c), seq: Number(off.slice(c + 1)) };
        if (!sock.last || sock.last.epoch !== pos.epoch || pos.seq > sock.last.seq) sock.last = pos;
      } else if (off === ":0" && !sock.last) sock.last = { offset: ":0", epoch: "", seq: 0 };
      sock.subscribed = true;
      sock.attempt = 0;
      if (sock.droppedAt) {
        if (f.recovered === false) stats.recoveredFalse++;
        else sock.resumedAt = Date.now();
        sock.droppedAt = 0;
      }
    }
  });
  ws.on("error", () => {
    if (!sock.open) stats.connectErrors++;
  });
  ws.on("close", (code) => {
    stats.closes[code] = (stats.closes[code] ?? 0) + 1;
    const wasSubscribed = sock.subscribed;
    sock.open = false;
    sock.subscribed = false;
    if (sock.stopped) return;
    if (wasSubscribed && markAt > 0 && !sock.droppedAt) {
      sock.droppedAt = Date.now();
      sock.dropped = true;
    }
    const delay = Math.random() * Math.min(maxDelayMs, minDelayMs * 2 ** sock.attempt++);
    sock.urlIndex++;
    setTimeout(() => dial(sock), delay);
  });
}

for (let i = 0; i < count; i++) {
  const sock = { channel: channels[i], urlIndex: cfg.firstUrl[i], attempt: 0, open: false, subscribed: false, last: undefined };
  sockets.push(sock);
  dial(sock);
  if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
}

process.on("message", (/** @type {any} */ m) => {
  if (m.cmd === "mark") {
    markAt = m.at;
    process.send?.({ type: "marked" });
  } else if (m.cmd === "report") {
    let subscribed = 0;
    let dropped = 0;
    let pending = 0;
    const resumeMs = [];
    for (const s of sockets) {
      if (s.subscribed) subscribed++;
      if (s.dropped) {
        dropped++;
        if (s.droppedAt || !s.subscribed) pending++;
        else if (s.resumedAt) resumeMs.push(s.resumedAt - markAt);
      }
    }
    process.send?.({ type: "report", count, subscribed, dropped, pending, resumeMs: m.full ? resumeMs : [], resumed: resumeMs.length, ...stats });
  } else if (m.cmd === "exit") {
    for (const s of sockets) {
      s.stopped = true;
      s.ws?.terminate();
    }
    setTimeout(() => process.exit(0), 100);
  }
});
process.send?.({ type: "started" });
