import { SignJWT } from "jose";
import WebSocket from "ws";

/** A parsed frame received by a test client. */
export type Frame = Record<string, unknown> & { type: string };

/** A `ws` client that records every frame and its close, for integration tests. */
export interface TestClient {
  ws: WebSocket;
  frames: Frame[];
  closed: Promise<{ code: number; reason: string; at: number }>;
  send(msg: unknown): void;
  /** Resolves with the first recorded frame (from `from` on) matching `pred`. */
  next(pred: (f: Frame) => boolean, timeoutMs?: number, from?: number): Promise<Frame>;
  events(channel?: string): Frame[];
  close(): Promise<void>;
}

/**
 * Opens a client (offering `protocols`, if any; offering permessage-deflate unless `perMessageDeflate`
 * is false, as `ws` does by default); rejects with `HTTP <status>` when the upgrade is refused.
 */
export function connect(
  url: string,
  headers: Record<string, string> = {},
  protocols: string[] = [],
  opts: { perMessageDeflate?: boolean } = {},
): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers, perMessageDeflate: opts.perMessageDeflate ?? true });
    const frames: Frame[] = [];
    const waiters = new Set<() => void>();
    let closeInfo: { code: number; reason: string; at: number } | undefined;
    const closed = new Promise<{ code: number; reason: string; at: number }>((r) =>
      ws.on("close", (code, reason) => {
        closeInfo = { code, reason: reason.toString(), at: Date.now() };
        for (const w of waiters) w();
        r(closeInfo);
      }),
    );
    ws.on("message", (data) => {
      frames.push(JSON.parse(String(data)) as Frame);
      for (const w of waiters) w();
    });
    ws.on("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on("error", (err) => reject(err));
    const client: TestClient = {
      ws,
      frames,
      closed,
      send: (msg) => ws.send(typeof msg === "string" ? msg : JSON.stringify(msg)),
      next(pred, timeoutMs = 5000, from = 0) {
        return new Promise((res, rej) => {
          const check = (): boolean => {
            const f = frames.slice(from).find(pred);
            if (f) {
              cleanup();
              res(f);
              return true;
            }
            if (closeInfo) {
              cleanup();
              rej(new Error(`closed ${closeInfo.code} before a matching frame; frames: ${JSON.stringify(frames.slice(-5))}`));
              return true;
            }
            return false;
          };
          const timer = setTimeout(() => {
            cleanup();
            rej(new Error(`no matching frame within ${timeoutMs} ms; last frames: ${JSON.stringify(frames.slice(-5))}`));
          }, timeoutMs);
          const w = (): void => void check();
          const cleanup = (): void => {
            clearTimeout(timer);
            waiters.delete(w);
          };
          if (!check()) waiters.add(w);
        });
      },
      events: (channel) =>
        frames.filter((f) => (f.type === "order.created" || f.type === "order.status") && (!channel || f["channel"] === channel)),
      async close() {
        if (ws.readyState === WebSocket.CLOSED) return;
        ws.close(1000);
        await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
        ws.terminate();
      },
    };
    ws.on("open", () => resolve(client));
  });
}

/** Subscribes and waits for the `subscribed` (or `error`) reply. */
export async function subscribeAndWait(c: TestClient, channels: string[], since?: Record<string, string>): Promise<Frame> {
  const from = c.frames.length;
  c.send({ type: "subscribe", channels, ...(since ? { since } : {}) });
  return c.next((f) => f.type === "subscribed" || f.type === "error", 5000, from);
}

/** Opens a client and authenticates it the protocol v1 way (a `connect` frame); resolves once `connected`. */
export async function connectAs(url: string, token: string): Promise<TestClient> {
  const c = await connect(url);
  c.send({ type: "connect", token });
  await c.next((f) => f.type === "connected");
  return c;
}

/** An HS256 token for tests. */
export async function makeToken(
  secret: string,
  sub: string,
  opts: { admin?: boolean; expiresIn?: string | number } = {},
): Promise<string> {
  let jwt = new SignJWT(opts.admin ? { admin: true } : {}).setProtectedHeader({ alg: "HS256" }).setSubject(sub).setIssuedAt();
  if (opts.expiresIn !== undefined) jwt = jwt.setExpirationTime(opts.expiresIn);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** A small valid order request for OrderStore.create. */
export function orderRequest(userId: string, price = 9.5): { userId: string; items: { productId: string; quantity: number; price: number }[] } {
  return { userId, items: [{ productId: "sku-1", quantity: 2, price }] };
}
