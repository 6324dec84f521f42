import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./compose-project.js";

// Python gRPC clients against a published order-api port: the article's asyncio client
// (test/seed/seed_client.py, unchanged) and a few lines that create an order and cancel it over
// ProcessOrders, with stubs generated from proto/order.proto as test/seed/python-client does.

const python = "/usr/bin/python3";
const grpcTools = "/usr/lib/python3/dist-packages/grpc_tools/_proto";

const CREATE_AND_CANCEL = `
import asyncio, os, order_pb2, order_pb2_grpc, grpc
async def main():
    async with grpc.aio.insecure_channel(os.environ["ORDERSTREAM_TARGET"]) as channel:
        stub = order_pb2_grpc.OrderServiceStub(channel)
        item = order_pb2.LineItem(product_id="py-sku", quantity=2, price=3.5)
        order = await stub.CreateOrder(order_pb2.CreateOrderRequest(user_id="py-user", items=[item]), timeout=10)
        async def actions():
            yield order_pb2.OrderAction(order_id=order.id, action="cancel", payload=b"{}")
        async for r in stub.ProcessOrders(actions(), timeout=10):
            print(order.id, r.order_id, order_pb2.OrderStatus.Name(r.status), r.error_code or "-")
asyncio.run(main())
`;

/** What the Python clients printed. */
export interface PythonRun {
  /** The article's client: one line per action (`Order ord-N: 0`). */
  articleLines: string[];
  /** Created order id, the id and status ProcessOrders answered, error code or "-". */
  createAndCancel: string[];
  stderr: string;
}

/** Generates the stubs, runs both clients against `target` (host:port), removes the stubs. */
export function runPythonClients(target: string): PythonRun {
  const stubs = mkdtempSync(join(tmpdir(), "orderstream-py-"));
  try {
    const gen = spawnSync(
      python,
      [
        "-m",
        "grpc_tools.protoc",
        `-I${join(ROOT, "proto")}`,
        `-I${grpcTools}`,
        `--python_out=${stubs}`,
        `--grpc_python_out=${stubs}`,
        join(ROOT, "proto/order.proto"),
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    if (gen.status !== 0) throw new Error(`grpc_tools.protoc failed: ${gen.stderr}`);
    const env = { ...process.env, PYTHONPATH: stubs, ORDERSTREAM_TARGET: target };
    const article = spawnSync(python, [join(ROOT, "test/seed/seed_client.py")], { env, encoding: "utf8", timeout: 30_000 });
    const mine = spawnSync(python, ["-c", CREATE_AND_CANCEL], { env, encoding: "utf8", timeout: 30_000 });
    return {
      articleLines: article.stdout.trim().split("\n").filter(Boolean),
      createAndCancel: mine.stdout.trim().split(/\s+/).filter(Boolean),
      stderr: `${article.stderr}${mine.stderr}`,
    };
  } finally {
    rmSync(stubs, { recursive: true, force: true });
  }
}
