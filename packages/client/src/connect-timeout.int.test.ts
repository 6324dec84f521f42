import { type Server, type Socket, createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { freePort, waitUntil } from "@orderstream/testkit";
import type { ClientEvents } from "./client-events.js";
import { OrderStreamClient } from "./order-stream-client.js";

// A TCP server that accepts and never answers the HTTP upgrade: a hung node or a black-holed route.
let server: Server;
let port: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  port = await freePort();
  server = createServer((s) => {
    sockets.push(s);
    s.on("error", () => undefined); // the client aborting is expected here
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

describe("connect timeout (real ws client, silent server)", () => {
  it("abandons a handshake that never completes, reports it, and retries under backoff", async () => {
    const client = new OrderStreamClient({
      url: `ws://127.0.0.1:${port}/ws`,
      WebSocket,
      connectTimeoutMs: 300,
      minReconnectDelayMs: 50,
      maxReconnectDelayMs: 100,
    });
    const errors: Error[] = [];
    const closes: ClientEvents["close"][] = [];
    client.on("error", (e) => errors.push(e));
    client.on("close", (c) => closes.push(c));
    client.connect();
    await waitUntil(() => closes.length >= 2, "two timed-out attempts", 5_000);
    client.close();
    expect(errors[0]?.message).toMatch(/timed out after 300 ms/);
    expect(closes[0]).toMatchObject({ code: 1006, reason: "connect timeout", willReconnect: true });
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    expect(client.state).toBe("closed");
  });
});
