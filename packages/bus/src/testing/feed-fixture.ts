import { CHANNEL_CREATED, CHANNEL_STATUS, userChannel } from "@orderstream/domain";
import type { Broker } from "../read/broker.js";
import { channelStreams } from "../read/channel-history.js";
import { type BusFixture, busFixture } from "./bus-fixture.js";
import { partitionStream } from "../layout/keys.js";
import { MemoryBus, type MemoryBroker } from "../read/memory-broker.js";
import { Partitioning } from "../layout/partitions.js";
import { pubsubChannel } from "../layout/keys.js";

/** The backends the feed's contract suite runs on. */
export const BACKENDS = ["memory", "single", "cluster"] as const;
export type Backend = (typeof BACKENDS)[number];

/**
 * A backend under the feed's contract suite, driven through what changes orders: creating and
 * advancing an order emits its events on the user's channel and on its partition's stream of the
 * all-orders channel (through the real write path on Redis).
 */
export interface FeedBackend {
  readonly partitions: Partitioning;
  /** A broker for one more node. */
  broker(): Broker;
  /** Creates an order of `userId`; returns its id. */
  create(userId: string): Promise<string>;
  /** Moves an order one step on (confirm, process, ship, deliver in turn). */
  advance(orderId: string): Promise<void>;
  /** Subscribers of a broker channel over every node (NUMSUB / SHARDNUMSUB on the owner). */
  numsub(channel: string): Promise<number>;
  /** Drops every node's live subscriptions while `meanwhile` runs; they come back after it. */
  dropSubscriptions(meanwhile: () => Promise<void>): Promise<void>;
  /** Loses all history and positions (a Redis that lost its data). */
  loseHistory(): Promise<void>;
  close(): Promise<void>;
}

const STEPS = ["confirm", "process", "ship", "deliver"] as const;
const STATUSES = ["CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"];

/** Starts a backend of the given kind. */
export async function feedBackend(kind: Backend): Promise<FeedBackend> {
  return kind === "memory" ? memoryBackend() : redisBackend(await busFixture(kind));
}

function memoryBackend(): FeedBackend {
  const bus = new MemoryBus();
  const partitions = new Partitioning();
  const nodes: MemoryBroker[] = [];
  const orders = new Map<string, { userId: string; step: number }>();
  const emit = (id: string, type: "order.created" | "order.status", status: string): void => {
    const o = orders.get(id) as { userId: string };
    const json = JSON.stringify({ id, userId: o.userId, items: [], total: 0, status, createdAt: "1970-01-01T00:00:00.000Z" });
    const all = type === "order.created" ? CHANNEL_CREATED : CHANNEL_STATUS;
    bus.publish(partitionStream(all, partitions.tag(partitions.of(id))), type, json);
    bus.publish(channelStreams(userChannel(o.userId), partitions)[0] as string, type, json);
  };
  return {
    partitions,
    broker() {
      const b = bus.broker();
      nodes.push(b);
      return b;
    },
    async create(userId) {
      const id = partitions.newOrderId(partitions.ofUser(userId));
      orders.set(id, { userId, step: 0 });
      emit(id, "order.created", "PENDING");
      return id;
    },
    async advance(id) {
      const o = orders.get(id);
      if (!o) throw new Error(`no order ${id}`);
      emit(id, "order.status", STATUSES[o.step++] as string);
    },
    async numsub(channel) {
      return bus.numsub(channel);
    },
    async dropSubscriptions(meanwhile) {
      for (const n of nodes) n.disconnect();
      await meanwhile();
      for (const n of nodes) n.reconnect();
    },
    async loseHistory() {
      bus.loseHistory();
    },
    async close() {
      for (const n of nodes) n.close();
    },
  };
}

function redisBackend(f: BusFixture): FeedBackend {
  const steps = new Map<string, number>();
  const req = (userId: string) => ({ userId, items: [{ productId: "sku", quantity: 1, price: 1 }] });
  return {
    partitions: f.store.partitions,
    broker: () => f.broker(),
    async create(userId) {
      const { order } = await f.store.create(req(userId));
      return order.id;
    },
    async advance(id) {
      const step = steps.get(id) ?? 0;
      steps.set(id, step + 1);
      await f.store.transition(id, STEPS[step] as (typeof STEPS)[number]);
    },
    numsub: (channel) => f.numsub(pubsubChannel(channel)),
    async dropSubscriptions(meanwhile) {
      await f.killSubscribers();
      await meanwhile();
    },
    loseHistory: () => f.flushAll(),
    close: () => f.close(),
  };
}
