#!/usr/bin/env node
// Redis main-thread CPU per event of each write-path step, in batches of 100 (a profile, not a
// benchmark with a reference): the order step (create), the channel append on one channel and on
// 100 channels (one event each, like per-user channels), the ack, the marker clean-up, and plain
// pipelines of the same commands for comparison. It explains bench:api's "Redis usec/order".
// Usage: npm run build && node bench/write-path-steps.mjs   (writes bench/results/write-path-steps-*.json)
import { Redis } from "ioredis";
import { startRedis } from "@orderstream/testkit";
import { CHANNEL_APPEND_LUA, ORDER_ACK_LUA, ORDER_CREATE_LUA } from "@orderstream/bus";
import { writeResult } from "./bench-support.mjs";
const redis = await startRedis();
const c = new Redis(redis.url);
const json = JSON.stringify({ id: "0b0e8c1e-8f0a-4a39-9b7c-4c1e9f1f1f1f", userId: "user-1", items: [{ productId: "sku-1", quantity: 1, price: 9.99 }], total: 9.99, createdAt: new Date().toISOString() }).slice(0, -1) + ',"status":"PENDING"}';
const N = 50000, B = 100;
async function measure(name, fn) {
  await c.config("RESETSTAT");
  const cpu = async () => { const m = (await c.info("cpu")).match(/used_cpu_sys_main_thread:([\d.]+)[\s\S]*used_cpu_user_main_thread:([\d.]+)/); return Number(m[1]) + Number(m[2]); };
  const t0 = await cpu();
  for (let i = 0; i < N; i += B) await fn(i);
  const t1 = await cpu();
  const usec = ((t1 - t0) * 1e6) / N;
  results[name] = Number(usec.toFixed(2));
  console.log(name.padEnd(28), "main-thread usec/event", usec.toFixed(2));
}
const results = {};
const append = await c.script("LOAD", CHANNEL_APPEND_LUA);
// one channel (orders.created-like), 100 events per call
await measure("append 1ch x100", async (i) => {
  const keys = ["os:hist:{c}", "os:meta:{c}", "os:ch:{c}"]; const pay = []; const refs = [1, "c", B];
  for (let j = 0; j < B; j++) { keys.push(`os:ap:{c}:o${i + j}:1`); pay.push("order.created", json, Date.now() + 60000); refs.push(j + 1); }
  await c.evalsha(append, keys.length, ...keys, "ep", 1000, 600000, 86400000, "PUBLISH", 86400000, B, ...pay, ...refs);
});
// 100 channels with 1 event each (user channels)
await measure("append 100ch x1", async (i) => {
  const keys = []; const pay = []; const refs = [B];
  for (let j = 0; j < B; j++) { const ch = `u${(i + j) % 1000}`; keys.push(`os:hist:{${ch}}`, `os:meta:{${ch}}`, `os:ch:{${ch}}`, `os:ap:{${ch}}:o${i + j}:1`); pay.push("order.created", json, Date.now() + 60000); refs.push(ch, 1, j + 1); }
  await c.evalsha(append, keys.length, ...keys, "ep", 1000, 600000, 86400000, "PUBLISH", 86400000, B, ...pay, ...refs);
});
// plain pipeline equivalent of one channel-event: SET NX, XADD, PUBLISH, HSET
await measure("pipeline set+xadd+pub+hset", async (i) => {
  const p = c.pipeline();
  for (let j = 0; j < B; j++) { const ch = `p${(i + j) % 1000}`; p.set(`os:ap:{${ch}}:o${i+j}`, "1", "PX", 86400000, "NX"); p.xadd(`os:hist:{${ch}}`, "MAXLEN", "~", 1000, "*", "f", json); p.publish(`os:ch:{${ch}}`, json); p.hset(`os:meta:{${ch}}`, "s", i + j); }
  await p.exec();
});
await measure("pipeline xadd+pub", async (i) => {
  const p = c.pipeline();
  for (let j = 0; j < B; j++) { const ch = `q${(i + j) % 1000}`; p.xadd(`os:hist:{${ch}}`, "MAXLEN", "~", 1000, "*", "f", json); p.publish(`os:ch:{${ch}}`, json); }
  await p.exec();
});
const ack = await c.script("LOAD", ORDER_ACK_LUA);
const create = await c.script("LOAD", ORDER_CREATE_LUA);
await measure("create x100", async (i) => {
  const keys = ["os:{t}:pending", "os:{t}:jobs", "os:{t}:jobdata"]; const args = [`b${i}`, 5000, 86400000, B];
  for (let j = 0; j < B; j++) { keys.push(`os:{t}:order:o${i + j}`); args.push(`o${i + j}`, json.slice(0, -1), "user-1", "0"); }
  await c.evalsha(create, keys.length, ...keys, ...args);
});
await measure("ack x100", async (i) => {
  const keys = ["os:{t}:pending"]; const args = [];
  for (let j = 0; j < B; j++) { keys.push(`os:{t}:order:o${i + j}`); args.push(`o${i + j}`, 1); }
  await c.evalsha(ack, keys.length, ...keys, ...args);
});
await measure("del markers x100", async (i) => {
  const keys = []; for (let j = 0; j < B; j++) keys.push(`os:ap:{c}:o${i + j}:1`);
  await c.del(...keys);
});
c.disconnect();
await redis.stop();
writeResult("write-path-steps", { eventsPerStep: N, batch: B, usecPerEvent: results });
