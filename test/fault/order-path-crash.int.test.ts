import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Partitioning, bullmqPrefix, channelHistoryLength, dueCount } from "@orderstream/bus";
import { type LocalCluster, startLocalCluster, waitUntil } from "@orderstream/testkit";
import type { OrderServiceClient } from "@orderstream/proto";
import { report, scaled } from "./fault-scale.js";
import { bulkCreate, createOrder, orderClient, orderRequest } from "./grpc-orders.js";
import { type AnyRedis, checkLifecycles, undelivered } from "./order-lifecycle-check.js";

const UNARY_ORDERS = scaled(1000, 200);
// At least 1,200: the stream must still be going when a third of it is stored (batches of 200).
const BULK_ORDERS = scaled(3000, 1200);
const USERS = Array.from({ length: 50 }, (_, i) => `u${i}`);

describe.each(["single", "cluster"] as const)("on %s Redis", (topology) => {
  let cluster: LocalCluster;
  let redis: AnyRedis;
  let grpc: OrderServiceClient;

  beforeAll(async () => {
    cluster = await startLocalCluster({
      redis: topology,
      edges: 0,
      processors: 2,
      env: { HISTORY_SIZE: "10000000" },
      processorEnv: {
        PROCESSOR_CONCURRENCY: "50",
        SHIP_DELAY_MS: "200",
        DELIVER_DELAY_MS: "200",
        DUE_SWEEP_INTERVAL_MS: "200",
        DUE_GRACE_MS: "1000",
        // Short locks so the jobs a killed processor held are found stalled within seconds.
        JOB_LOCK_MS: "1500",
        STALLED_INTERVAL_MS: "500",
      },
      apiEnv: { BULK_BATCH_SIZE: "200" },
    });
    redis = cluster.redisClient();
    grpc = orderClient(cluster.apiPort);
  });

  afterAll(async () => {
    grpc?.close();
    await cluster?.stop();
  });

  /** The summed `requeued` figures of the processors' due-sweep log lines. */
  function requeuedFromLogs(): number {
    let n = 0;
    for (const p of cluster.processors) for (const m of p.output().matchAll(/"requeued":(\d+)[^\n]*due sweep queued/g)) n += Number(m[1]);
    return n;
  }

  const partitions = new Partitioning();
  const statusLen = (): Promise<number> => channelHistoryLength(redis, "orders.status", partitions);
  const createdLen = (): Promise<number> => channelHistoryLength(redis, "orders.created", partitions);
  /** Jobs being worked on, over every partition's queue. */
  async function activeJobs(): Promise<number> {
    const lens = await Promise.all(partitions.all().map((p) => redis.llen(`${bullmqPrefix(partitions.tag(p))}:orders:active`)));
    return lens.reduce((a, b) => a + b, 0);
  }

  describe("crashes on the order path", () => {
    it("a processor SIGKILLed mid-transition: every order still reaches DELIVERED with one event per transition", async () => {
      let created = 0;
      let failed = 0;
      let killed: { statusEventsAtKill: number; activeAtKill: number; dueAtKill: number } | undefined;
      const victim = cluster.processors[0] as (typeof cluster.processors)[0];
      const worker = async (): Promise<void> => {
        while (created + failed < UNARY_ORDERS) {
          const n = created + failed;
          created++;
          try {
            await createOrder(grpc, orderRequest(USERS[n % USERS.length] as string, n));
          } catch {
            created--;
            failed++;
          }
          if (!killed && (await statusLen()) >= UNARY_ORDERS / 4) await kill();
        }
      };
      const kill = async (): Promise<void> => {
        killed = { statusEventsAtKill: -1, activeAtKill: -1, dueAtKill: -1 };
        victim.proc.kill("SIGKILL");
        killed.statusEventsAtKill = await statusLen();
        killed.activeAtKill = await activeJobs();
        // Orders owed a step: the victim's active jobs held some of them.
        killed.dueAtKill = await dueCount(redis, partitions);
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      if (!killed) {
        // Creation outran the processors: kill while they are still transitioning.
        await waitUntil(async () => (await statusLen()) >= UNARY_ORDERS / 4, "a quarter of the transitions", 30_000, 5);
        await kill();
      }
      expect(await victim.exited).toBe(null);
      await cluster.addProcessor(); // the replacement a deployment would start
      await waitUntil(async () => (await undelivered(redis)) === 0, "every order DELIVERED", 60_000, 250);
      const check = await checkLifecycles(redis);
      report(`order-path-crash/processor/${topology}`, { unaryOrders: UNARY_ORDERS, created, failed, killed, ...check });
      expect(killed).toBeDefined();
      expect(failed).toBe(0);
      expect(check.orders).toBe(created);
      expect(check.examples).toEqual([]);
      expect(check.bad).toBe(0);
      expect(check.statusEvents).toBe(4 * check.orders);
      expect(check.dueLeft).toBe(0);
    }, 120_000);

    it("order-api SIGKILLed during BulkCreateOrders: every stored order reaches DELIVERED (the due sweep queues what it left)", async () => {
      const api = cluster.api as NonNullable<typeof cluster.api>;
      const base = await createdLen();
      let dueAtKill = -1;
      let storedAtKill = -1;
      const storedNow = async (): Promise<number> => (await createdLen()) - base;
      const result = await bulkCreate(grpc, BULK_ORDERS, USERS, async (sent) => {
        if (dueAtKill >= 0) return;
        // Keep the stream mid-flight (gRPC would otherwise buffer it all before the api stores any).
        await waitUntil(async () => (await storedNow()) >= sent - 600, "api keeps up with the stream", 10_000, 5);
        const stored = await storedNow();
        if (stored < BULK_ORDERS / 3) return;
        api.proc.kill("SIGKILL");
        dueAtKill = await dueCount(redis, partitions);
        storedAtKill = stored;
      });
      expect(dueAtKill).toBeGreaterThan(0);
      expect(await api.exited).toBe(null);
      const stored = (await createdLen()) - base;
      await waitUntil(async () => (await undelivered(redis)) === 0, "every stored order DELIVERED", 60_000, 250);
      const check = await checkLifecycles(redis);
      report(`order-path-crash/api/${topology}`, {
        bulkOrders: BULK_ORDERS,
        sent: result.sent,
        streamError: result.error?.message.slice(0, 80),
        storedAtKill,
        stored,
        dueAtKill,
        requeuedByProcessors: requeuedFromLogs(),
        ...check,
      });
      expect(result.error).toBeDefined();
      expect(stored).toBeGreaterThan(0);
      expect(stored).toBeLessThan(BULK_ORDERS);
      // Nothing is left owed: every order's due entry went with its delivery.
      expect(check.dueLeft).toBe(0);
      expect(check.examples).toEqual([]);
      expect(check.bad).toBe(0);
      expect(check.statusEvents).toBe(4 * check.orders);
    }, 120_000);
  });
});
