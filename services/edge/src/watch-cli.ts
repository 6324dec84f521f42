#!/usr/bin/env node
import WebSocket from "ws";

/**
 * `watch`: prints the live events of channels, one JSON line each.
 * Usage: node services/edge/dist/watch-cli.js ws://127.0.0.1:9001/ws orders.status [more channels] [--token T]
 */
function parseArgs(argv: string[]): { url: string; channels: string[]; token: string | undefined } {
  const rest: string[] = [];
  let token: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--token") token = argv[++i];
    else if (a.startsWith("--token=")) token = a.slice(8);
    else rest.push(a);
  }
  const [url, ...channels] = rest;
  if (!url || channels.length === 0 || !/^wss?:\/\//.test(url)) {
    process.stderr.write("usage: watch-cli <ws://host:port/ws> <channel> [channel...] [--token T]\n");
    process.exit(2);
  }
  return { url, channels, token };
}

const { url, channels, token } = parseArgs(process.argv.slice(2));
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
