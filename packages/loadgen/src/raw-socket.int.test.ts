import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { RAW, type RawHandler, RawWebSocket, rawTarget } from "./raw-socket.js";

// The raw client against `ws`'s server, a strict peer: it refuses unmasked client frames, checks
// the handshake, and sends every frame size and control frame the client must read.

interface Seen {
  opened: boolean;
  texts: string[];
  closed?: { code: number; failure: string | undefined };
}

function handler(): RawHandler<Seen> & { done: Promise<void> } {
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return {
    done,
    open: (ws) => void (ws.data.opened = true),
    text: (ws, payload) => void ws.data.texts.push(payload.toString()),
    close: (ws, code, failure) => {
      ws.data.closed = { code, failure };
      resolve();
    },
  };
}

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};

let wss: WebSocketServer;
let url = "";
const serverSaw: string[] = [];
let pongs = 0;

beforeAll(async () => {
  wss = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    verifyClient: (info, cb) => (info.req.url?.includes("full") ? cb(false, 503, "full") : cb(true)),
  });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`;
  wss.on("connection", (ws, req) => {
    ws.on("pong", () => pongs++);
    ws.on("message", (data) => {
      const text = data.toString();
      serverSaw.push(text);
      if (text === "sizes") for (const n of [5, 125, 126, 300, 65_535, 70_000]) ws.send("x".repeat(n));
      else if (text === "ping") ws.ping("hello");
      else if (text === "close-me") ws.close(4004, "slow consumer");
      else if (text === "echo") ws.send(`echo:${req.url}`);
    });
  });
});

afterAll(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise((r) => wss.close(r));
});

function connect(target = url): { ws: RawWebSocket<Seen>; h: ReturnType<typeof handler> } {
  const h = handler();
  const ws = new RawWebSocket<Seen>(rawTarget(target), { opened: false, texts: [] }, h);
  return { ws, h };
}

describe("RawWebSocket", () => {
  it("opens, sends masked frames in one write and reads every length encoding", async () => {
    const { ws } = connect(`${url}?a=1`);
    await until(() => ws.data.opened);
    ws.sendFrames(["first", "y".repeat(200), "echo"]);
    ws.send("sizes");
    await until(() => ws.data.texts.length === 7);
    expect(serverSaw).toEqual(expect.arrayContaining(["first", "y".repeat(200), "echo", "sizes"]));
    expect(ws.data.texts[0]).toBe("echo:/ws?a=1");
    expect(ws.data.texts.slice(1).map((t) => t.length)).toEqual([5, 125, 126, 300, 65_535, 70_000]);
    expect(ws.bytesRead).toBeGreaterThan(136_000);
    ws.close(1000);
    await until(() => ws.state === RAW.closed);
    expect(ws.data.closed).toEqual({ code: 1000, failure: undefined });
  });

  it("answers a ping with a pong and reports the server's close code", async () => {
    const { ws, h } = connect();
    await until(() => ws.data.opened);
    const before = pongs;
    ws.send("ping");
    await until(() => pongs === before + 1);
    ws.send("close-me");
    await h.done;
    expect(ws.data.closed).toEqual({ code: 4004, failure: undefined });
  });

  it("names why a connection never opened: HTTP status, refused port, handshake timeout", async () => {
    const refused = connect(`${url}?full=1`);
    await refused.h.done;
    expect(refused.ws.data.closed?.failure).toBe("http_503");

    const silent: Server = createServer((c) => c.resume()); // reads, never answers
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as AddressInfo).port;
    const h = handler();
    const timedOut = new RawWebSocket<Seen>(rawTarget(`ws://127.0.0.1:${port}/`), { opened: false, texts: [] }, h, {}, 300);
    await h.done;
    expect(timedOut.data.closed?.failure).toBe("timeout");
    await new Promise((r) => silent.close(r));

    const nobody = connect(`ws://127.0.0.1:${port}/`);
    await nobody.h.done;
    expect(nobody.ws.data.closed?.failure).toBe("ECONNREFUSED");
    expect(nobody.ws.data.opened).toBe(false);
  });

  it("refuses a URL that is not ws:// or wss://", () => {
    expect(() => rawTarget("http://127.0.0.1:1/")).toThrow(/ws:\/\/ or wss:\/\//);
  });
});
