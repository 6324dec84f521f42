// End-to-end smoke checks of a running orderstream cluster, used by scripts/check-deploy.mjs
// (against `docker compose up` when a container engine is present) and by
// test/deploy/compose-env.int.test.ts (against processes started with compose's environment).
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";

/**
 * Subscribes over WebSocket to the all-orders channels, creates one order over gRPC and waits
 * for its `order.created` event and a processor-made `order.status` event (CONFIRMED or later).
 * Resolves with what was seen; rejects with the reason after `timeoutMs`.
 */
export async function clusterRoundTrip({ wsUrl, grpcAddress, timeoutMs = 20_000 }) {
  const { default: WebSocket } = await import("ws");
  const grpc = await import("@grpc/grpc-js");
  const { OrderServiceClient } = await import("@orderstream/proto");
  const ws = new WebSocket(wsUrl);
  const client = new OrderServiceClient(grpcAddress, grpc.credentials.createInsecure());
  const frames = [];
  let timer;
  try {
    return await new Promise((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no round trip within ${timeoutMs} ms; frames: ${JSON.stringify(frames).slice(0, 2000)}`)),
        timeoutMs,
      );
      let orderId;
      // Events can arrive before the CreateOrder reply, so every check re-reads all frames.
      const check = () => {
        if (orderId === undefined) return;
        const mine = frames.filter((f) => f.data?.id === orderId);
        const created = mine.some((f) => f.type === "order.created");
        const statuses = mine.filter((f) => f.type === "order.status").map((f) => f.data.status);
        if (created && statuses.some((st) => st !== "PENDING")) resolve({ orderId, created, statuses });
      };
      ws.on("error", reject);
      ws.on("close", (code, reason) => reject(new Error(`WebSocket closed ${code} ${reason}`)));
      ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", channels: ["orders.created", "orders.status"] })));
      ws.on("message", (raw) => {
        const msg = JSON.parse(String(raw));
        frames.push(msg);
        if (msg.type === "error") reject(new Error(`edge answered error ${JSON.stringify(msg.error)}`));
        if (msg.type === "subscribed") {
          const req = { userId: "smoke-user", items: [{ productId: "smoke-sku", quantity: 2, price: 1.5 }] };
          client.createOrder(req, (err, order) => {
            if (err) return reject(new Error(`CreateOrder: ${err.message}`));
            orderId = order.id;
            check();
          });
        }
        check();
      });
    });
  } finally {
    clearTimeout(timer);
    ws.removeAllListeners();
    ws.on("error", () => undefined);
    ws.terminate();
    client.close();
  }
}

function sh(cmd, args, opts = {}) {
  console.log(`$ ${cmd} ${args.join(" ")}`);
  return spawnSync(cmd, args, { stdio: "inherit", ...opts }).status === 0;
}

/** Compose CLI: v2 plugin when present, else v1 `docker-compose`. */
function composeCommand() {
  if (spawnSync("docker", ["compose", "version"], { stdio: "ignore" }).status === 0) return ["docker", "compose"];
  return ["docker-compose"];
}

/** Waits until every container of the project reports healthy (or has no healthcheck). */
async function waitHealthy(compose, root, project, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const ids = execFileSync(compose[0], [...compose.slice(1), "-p", project, "ps", "-q"], { cwd: root, encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
    const states = ids.map((id) =>
      execFileSync("docker", ["inspect", "-f", "{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", id], {
        encoding: "utf8",
      }).trim(),
    );
    last = states.join("; ");
    const ready = states.length >= 8 && states.every((s) => / running( healthy)?$/.test(s));
    if (ready) return;
    await new Promise((r) => setTimeout(r, 3000));
  }
  throw new Error(`containers not healthy within ${timeoutMs} ms: ${last}`);
}

/** Builds the image, starts docker-compose.yml, checks health and one order round trip, tears down. */
export async function runComposeSmoke(root) {
  const compose = composeCommand();
  const project = "orderstream-smoke";
  // Explicit values win over a developer's .env, so the smoke test sees the documented defaults.
  const env = {
    ...process.env,
    ORDERSTREAM_IMAGE: "orderstream:smoke",
    EDGE_PUBLISHED_PORT: "9001",
    ORDER_API_PUBLISHED_PORT: "50051",
    ANONYMOUS_ALL_ORDERS: "true",
  };
  if (!sh("docker", ["build", "-t", "orderstream:smoke", root])) return false;
  const up = [...compose.slice(1), "-p", project, "up", "-d", "--no-build"];
  let ok = false;
  try {
    if (!sh(compose[0], up, { cwd: root, env })) return false;
    await waitHealthy(compose, root, project, 180_000);
    for (const svc of ["edge", "order-api"]) {
      if (!sh(process.execPath, [join(root, "scripts/healthcheck.mjs"), svc], { env: { ...env, EDGE_PORT: "9001", GRPC_PORT: "50051" } })) {
        console.error(`FAIL: ${svc} is not healthy through its published port`);
        return false;
      }
    }
    const r = await clusterRoundTrip({ wsUrl: "ws://127.0.0.1:9001/ws", grpcAddress: "127.0.0.1:50051", timeoutMs: 30_000 });
    console.log(`ok: order ${r.orderId} created over gRPC, seen on WebSocket through the load balancer (${r.statuses.join(" -> ")})`);
    ok = true;
    return true;
  } catch (err) {
    console.error(`FAIL: compose smoke test: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  } finally {
    if (!ok) sh(compose[0], [...compose.slice(1), "-p", project, "logs", "--tail", "50"], { cwd: root, env });
    sh(compose[0], [...compose.slice(1), "-p", project, "down", "-v", "--remove-orphans"], { cwd: root, env });
  }
}
