#!/usr/bin/env node
/**
 * `orderstream-watch`: prints the live events of channels, one JSON line each (usage and exit
 * codes in {@link WATCH_USAGE}).
 */
import WebSocket from "ws";
import { WATCH_USAGE, type WatchArgs, WatchUsageError, parseWatchArgs } from "./watch-args.js";

let args: WatchArgs;
try {
  args = parseWatchArgs(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof WatchUsageError)) throw err;
  process.stderr.write(`orderstream-watch: ${err.message}\n\n${WATCH_USAGE}\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(`${WATCH_USAGE}\n`);
  process.exit(0);
}

const { url, channels, token } = args;
const ws = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", channels })));
ws.on("message", (data) => {
  const text = String(data);
  let msg: { type?: string; error?: { code: string; message: string } };
  try {
    msg = JSON.parse(text) as typeof msg;
  } catch {
    process.stderr.write(`unparsable frame: ${text.slice(0, 200)}\n`);
    return;
  }
  if (msg.type === "error") process.stderr.write(`error ${msg.error?.code}: ${msg.error?.message}\n`);
  else if (msg.type === "subscribed") process.stderr.write(`${text}\n`);
  else process.stdout.write(`${text}\n`);
});
ws.on("unexpected-response", (_req, res) => {
  process.stderr.write(`upgrade refused: HTTP ${res.statusCode}\n`);
  process.exit(1);
});
ws.on("error", (err) => {
  process.stderr.write(`connection error: ${err.message}\n`);
  process.exit(1);
});
ws.on("close", (code, reason) => {
  process.stderr.write(`closed ${code} ${reason.toString()}\n`);
  process.exit(code === 1000 ? 0 : 1);
});
process.on("SIGINT", () => ws.close(1000));
