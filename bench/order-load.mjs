// The client side of bench:api, the same for every server: one OrderService client, CreateOrder at
// a fixed number of calls in flight for a fixed time, BulkCreateOrders over parallel client streams.
import * as grpc from "@grpc/grpc-js";
import { OrderServiceClient } from "@orderstream/proto";
import { latencyHistogram } from "./bench-support.mjs";

/** Distinct users the orders of a run belong to (BENCH_USERS, default 1,000; 1 = one very busy user). */
export const USERS = Number(process.env.BENCH_USERS ?? 1000);

/** The i-th request of a run: USERS users, 50 products, 1 line item. */
export const orderRequest = (i) => ({ userId: `user-${i % USERS}`, items: [{ productId: `sku-${i % 50}`, quantity: 1 + (i % 3), price: 9.99 }] });

/** A promise-returning OrderService client on `127.0.0.1:port`. */
export function orderClient(port) {
  // Retries off: grpc-js buffers every message of a client stream for retry, O(n²) in a long bulk stream.
  const client = new OrderServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.enable_retries": 0 });
  return {
    create: (req) => new Promise((res, rej) => client.createOrder(req, (err, o) => (err ? rej(err) : res(o)))),
    /** One BulkCreateOrders stream carrying requests `from` … `from + count - 1`. */
    bulk: (from, count) => new Promise((res, rej) => {
      const call = client.bulkCreateOrders((err, r) => (err ? rej(err) : res(r)));
      for (let i = from; i < from + count; i++) call.write(orderRequest(i));
      call.end();
    }),
    close: () => client.close(),
  };
}

/** CreateOrder with `concurrency` calls in flight for `seconds`: orders/s, errors, latency. */
export async function unaryPhase(client, { seconds, concurrency }) {
  const lat = latencyHistogram();
  let created = 0;
  let errors = 0;
  let firstError;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
    for (let i = w; performance.now() < end; i += concurrency) {
      const s = performance.now();
      try {
        await client.create(orderRequest(i));
        created++;
        lat.recordMs(performance.now() - s);
      } catch (err) {
        errors++;
        firstError ??= err.message;
      }
    }
  }));
  const elapsedS = (performance.now() - t0) / 1000;
  return { concurrency, seconds: elapsedS, created, ordersPerS: Math.round(created / elapsedS), errors, firstError, latency: lat.summary() };
}

/**
 * BulkCreateOrders: `total` orders in streams of `perStream`, `parallel` streams at a time. (grpc-js,
 * as a client, keeps a stream's unsent messages in an array it re-slices per send: O(n²) on one
 * huge stream, in the client; hence streams of 5,000.)
 */
export async function bulkPhase(client, { total, perStream = 5000, parallel = 4 }) {
  const t0 = performance.now();
  let created = 0;
  let rejected = 0;
  for (let from = 0; from < total; from += parallel * perStream) {
    const starts = Array.from({ length: parallel }, (_, k) => from + k * perStream).filter((f) => f < total);
    const rs = await Promise.all(starts.map((f) => client.bulk(f, Math.min(perStream, total - f))));
    for (const r of rs) {
      created += r.createdCount;
      rejected += r.errors.length;
    }
  }
  const elapsedS = (performance.now() - t0) / 1000;
  return { perStream, parallel, seconds: elapsedS, created, rejected, ordersPerS: Math.round(created / elapsedS) };
}

/**
 * JIT and connection warm-up: 1 s of CreateOrder at the measured concurrency and one bulk stream
 * of 1,000. Returns the orders it created.
 */
export async function warmUp(client, concurrency) {
  const u = await unaryPhase(client, { seconds: 1, concurrency });
  if (u.created === 0) throw new Error(`warm-up: no CreateOrder succeeded (${u.firstError})`);
  return u.created + (await client.bulk(0, 1000)).createdCount;
}
