import { createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { OrderStore, closeRedis, createRedis, type RedisConnection } from "@orderstream/bus";
import { type ServiceProcess, type TestRedis, freePort, startRedis, startService } from "@orderstream/testkit";
import { createFrameValidator } from "@orderstream/wire/validate";
import { type ClientOptions, WebSocket } from "ws";

const validator = createFrameValidator();
/** Frames the SDK sent through a {@link CheckedWebSocket} that broke the protocol's JSON Schema (tests assert none). */
export const clientFrameProblems: string[] = [];

/** `ws`'s WebSocket checking every frame the SDK sends against the protocol's JSON Schema (packages/wire). */
export class CheckedWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[], options?: ClientOptions) {
    super(url, protocols, options);
  }
}
const plainSend = WebSocket.prototype.send as (this: WebSocket, ...args: unknown[]) => void;
(CheckedWebSocket.prototype as unknown as { send: (...args: unknown[]) => void }).send = function (this: WebSocket, ...args: unknown[]) {
  const problem = validator.clientFrameProblem(String(args[0]));
  if (problem) {
    clientFrameProblems.push(problem);
    throw new Error(`the SDK sent a frame that breaks the protocol: ${problem}`);
  }
  plainSend.apply(this, args);
};

/** The built edge entry point the integration tests run as child processes. */
export const EDGE_MAIN = fileURLToPath(new URL("../../../services/edge/dist/main.js", import.meta.url));
/** The JWT secret every test edge node is started with. */
export const JWT_SECRET = "test-secret";

/** One running edge node. */
export interface TestEdge {
  nodeId: string;
  url: string;
  port: number;
  svc: ServiceProcess;
}

/** A real redis-server, a publisher writing through the real OrderStore, and edge nodes on demand. */
export interface EdgeCluster {
  redis: TestRedis;
  store: OrderStore;
  /** Starts an edge node; `env` adds to (or overrides) its environment, e.g. `EDGE_COMPRESSION`. */
  startEdge(nodeId: string, env?: Record<string, string>): Promise<TestEdge>;
  /** Creates an order for `userId` (emits order.created on orders.created and orders.user.<id>). */
  createOrder(userId?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts redis and returns a cluster handle; edge nodes are child processes of `node dist/main.js`. */
export async function startEdgeCluster(): Promise<EdgeCluster> {
  if (!existsSync(EDGE_MAIN)) throw new Error(`${EDGE_MAIN} is missing: build it with \`npx tsc -b services/edge\``);
  const redis = await startRedis();
  const conn: RedisConnection = createRedis(redis.url, { role: "command", name: "t" });
  const store = new OrderStore(conn);
  const edges: TestEdge[] = [];
  let n = 0;
  return {
    redis,
    store,
    async startEdge(nodeId, env = {}) {
      const port = await freePort();
      const svc = startService(
        EDGE_MAIN,
        {
          REDIS_URL: redis.url,
          EDGE_HOST: "127.0.0.1",
          EDGE_PORT: String(port),
          AUTH_JWT_SECRET: JWT_SECRET,
          ANONYMOUS_ALL_ORDERS: "true",
          DRAIN_WINDOW_MS: "500",
          NODE_ID: nodeId,
          ORDER_API_URL: "127.0.0.1:1",
          LOG_LEVEL: "info",
          ...env,
        },
        `edge ${nodeId}`,
      );
      const edge = { nodeId, url: `ws://127.0.0.1:${port}/ws`, port, svc };
      edges.push(edge);
      await svc.waitFor(/"msg":"ready"/, 15_000);
      return edge;
    },
    async createOrder(userId = "u1") {
      n++;
      const r = await store.create({ userId, items: [{ productId: `p${n}`, quantity: 1, price: 10 }] });
      return r.order.id;
    },
    async stop() {
      await Promise.all(edges.map((e) => e.svc.stop("SIGKILL", 2_000)));
      await closeRedis(conn);
      await redis.stop();
    },
  };
}

/** An HS256 JWT signed with {@link JWT_SECRET}, as the edge expects in `connect`. */
export function signToken(claims: Record<string, unknown>, secret = JWT_SECRET): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600, ...claims })}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}
