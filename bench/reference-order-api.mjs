#!/usr/bin/env node
// The floor for bench:api: what a competent developer writes in an afternoon. CreateOrder and
// BulkCreateOrders only; per order one MULTI of HSET order:<id> + XADD orders.created + PUBLISH
// orders.created; bulk in pipelines of 500. No idempotency, queue, due set, metrics or limits.
// Usage: REDIS_URL=… PORT=… node bench/reference-order-api.mjs
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Redis } from "ioredis";
import { ROOT } from "./bench-support.mjs";

const port = Number(process.env.PORT ?? 50061);
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const BULK_PIPELINE = 500;

/** The service from proto/order.proto via @grpc/proto-loader; the generated ts-proto one without it. */
async function loadService() {
  try {
    const loader = await import("@grpc/proto-loader");
    const def = loader.loadSync(join(ROOT, "proto/order.proto"), { defaults: true });
    const timestamp = (ms) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
    const pkg = /** @type {any} */ (grpc.loadPackageDefinition(def));
    return { service: pkg.order.OrderService.service, codec: "proto-loader", timestamp };
  } catch (err) {
    if (/** @type {any} */ (err)?.code !== "ERR_MODULE_NOT_FOUND") throw err;
    const { OrderServiceService } = await import("@orderstream/proto");
    return { service: OrderServiceService, codec: "ts-proto", timestamp: (ms) => new Date(ms) };
  }
}
const { service, codec, timestamp } = await loadService();

/** The order for a request, or a message saying what is wrong with it. */
function toOrder(req) {
  if (!req.userId) return { error: "user_id must not be empty" };
  if (!req.items?.length) return { error: "items must not be empty" };
  const total = req.items.reduce((sum, i) => sum + i.price * i.quantity, 0);
  return { order: { id: randomUUID(), userId: req.userId, items: req.items, total, status: 0, createdAt: timestamp(Date.now()) } };
}

/** Queues the order's MULTI on a pipeline. */
function writeOrder(p, order) {
  const json = JSON.stringify(order);
  return p.call("MULTI").hset(`order:${order.id}`, "status", "PENDING", "json", json)
    .xadd("orders.created", "*", "f", json).publish("orders.created", json).call("EXEC");
}

/** Runs a pipeline; rejects when any of its commands failed. */
async function run(p) {
  const failed = (await p.exec()).find(([err]) => err);
  if (failed) throw failed[0];
}

const server = new grpc.Server();
server.addService(service, {
  createOrder(call, callback) {
    const { order, error } = toOrder(call.request);
    if (error) return callback({ code: grpc.status.INVALID_ARGUMENT, details: error });
    run(writeOrder(redis.pipeline(), order)).then(
      () => callback(null, order),
      (err) => callback({ code: grpc.status.UNAVAILABLE, details: err.message }),
    );
  },
  bulkCreateOrders(call, callback) {
    /** @type {{ createdCount: number, orderIds: string[], errors: { index: number, message: string }[] }} */
    const res = { createdCount: 0, orderIds: [], errors: [] };
    const writes = [];
    let batch = [];
    const flush = () => {
      if (batch.length === 0) return;
      const p = redis.pipeline();
      for (const o of batch) writeOrder(p, o);
      const ids = batch.map((o) => o.id);
      batch = [];
      writes.push(run(p).then(() => { res.createdCount += ids.length; res.orderIds.push(...ids); }));
    };
    let index = 0;
    call.on("data", (req) => {
      const { order, error } = toOrder(req);
      if (error) res.errors.push({ index, message: error });
      else if (batch.push(order) >= BULK_PIPELINE) flush();
      index++;
    });
    call.on("end", () => {
      flush();
      Promise.all(writes).then(() => callback(null, res), (err) => callback({ code: grpc.status.UNAVAILABLE, details: err.message }));
    });
  },
});
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  console.log(JSON.stringify({ msg: "ready", port, codec }));
});
