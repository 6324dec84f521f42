// A small fake payment and shipping HTTP service for the example's test, on loopback. It keeps
// one charge per idempotency key (a repeated key returns the first charge), and injects failures
// chosen by the order's user id: `timeout-*` (the first request hangs past the step's timeout),
// `flaky-*` (the first request answers 500), `decline-*` (402 until POST /fix), `slow-*` (every
// charge takes 0.8 s, under the step's 1 s timeout: time to kill a processor mid-step).
import { createServer } from "node:http";

/** Starts the service on 127.0.0.1 (port 0 = any); resolves with its URL, its state and close(). */
export function startFakeServices(port = 0) {
  const state = { requests: [], charges: new Map(), labels: new Map(), fixed: false, seen: new Set() };
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const send = (status, obj) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(obj));
    };
    if (req.method === "POST" && req.url === "/fix") {
      state.fixed = true;
      return send(200, { fixed: true });
    }
    const key = req.headers["idempotency-key"];
    let data;
    try {
      data = JSON.parse(body);
    } catch {
      return send(400, { error: "bad json" });
    }
    if (typeof key !== "string" || key === "") return send(400, { error: "idempotency-key required" });
    state.requests.push({ path: req.url, key, orderId: data.orderId });
    const user = String(data.userId ?? "");
    const first = !state.seen.has(`${req.url}|${data.orderId}`);
    state.seen.add(`${req.url}|${data.orderId}`);
    if (req.url === "/charges") {
      if (user.startsWith("timeout-") && first) await new Promise((r) => setTimeout(r, 3000));
      if (user.startsWith("flaky-") && first) return send(500, { error: "try again" });
      if (user.startsWith("decline-") && !state.fixed) return send(402, { error: "card declined" });
      if (user.startsWith("slow-")) await new Promise((r) => setTimeout(r, 800));
      let charge = state.charges.get(key);
      if (!charge) state.charges.set(key, (charge = { id: `ch_${state.charges.size + 1}`, orderId: data.orderId, amount: data.amount }));
      return send(200, charge);
    }
    if (req.url === "/labels") {
      let label = state.labels.get(key);
      if (!label) state.labels.set(key, (label = { tracking: `TRK${1000 + state.labels.size}`, orderId: data.orderId }));
      return send(200, label);
    }
    return send(404, { error: "not found" });
  });
  return new Promise((resolve) => {
    server.listen(port, "127.0.0.1", () => {
      const { port: p } = server.address();
      resolve({ url: `http://127.0.0.1:${p}`, state, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

/** Charges made for an order (one per idempotency key that succeeded). */
export function chargesOf(state, orderId) {
  return [...state.charges.values()].filter((c) => c.orderId === orderId);
}
