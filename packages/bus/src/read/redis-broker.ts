import calculateSlot from "cluster-key-slot";
import type { StreamPosition } from "@orderstream/wire";
import type { Broker, BrokerHandler, HistoryRead } from "./broker.js";
import { HistoryReader } from "./history-reader.js";
import { channelOfPubsub, isAllOrders, publicChannel, pubsubChannel } from "../layout/keys.js";
import { ReadScripts } from "./read-scripts.js";
import { guardRedis } from "../runtime/redis-errors.js";
import type { RedisConnection } from "../runtime/redis-connection.js";

/**
 * The Redis backend of {@link Broker}: SUBSCRIBE on one node, SSUBSCRIBE (one call per slot) on a
 * Redis Cluster, never a pattern subscription; history from the channels' capped streams. `sub`
 * is a connection in subscriber mode, `cmd` a command connection for history reads.
 */
export class RedisBroker implements Broker {
  private readonly sharded: boolean;
  private readonly history: HistoryReader;
  private readonly scripts: ReadScripts;
  private handler: BrokerHandler | undefined;
  private wasReady = false;

  constructor(
    private readonly sub: RedisConnection,
    cmd: RedisConnection,
    opts: { sharded?: boolean } = {},
  ) {
    this.sharded = opts.sharded ?? false;
    this.history = new HistoryReader(cmd);
    this.scripts = new ReadScripts(cmd);
    sub.on(this.sharded ? "smessage" : "message", (redisChannel: string, message: string) => {
      const channel = channelOfPubsub(redisChannel);
      if (channel !== undefined) this.handler?.onFrame(channel, message);
    });
    sub.on("ready", () => {
      if (this.wasReady) this.handler?.onResubscribed();
      this.wasReady = true;
    });
    // A Redis Cluster's sharded subscribers have connections of their own: when one is lost, the
    // cluster replaces it, resubscribes its channels and emits `subscribersReady` (only after such
    // a reset, never on a quiet slots refresh). Messages of the meantime must be read from history.
    if (this.sharded) sub.on("subscribersReady", () => this.handler?.onResubscribed());
    if (sub.status === "ready") this.wasReady = true;
  }

  isConnected(): boolean {
    return this.sub.status === "ready";
  }

  setHandler(handler: BrokerHandler): void {
    this.handler = handler;
  }

  async subscribe(channels: readonly string[]): Promise<void> {
    // One SSUBSCRIBE names channels of one slot only: one call per slot.
    const groups = this.bySlot(channels.map(pubsubChannel));
    await Promise.all(groups.map((g) => guardRedis(() => (this.sharded ? this.sub.ssubscribe(...g) : this.sub.subscribe(...g)))));
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    const groups = this.bySlot(channels.map(pubsubChannel));
    try {
      await Promise.all(groups.map((g) => guardRedis(() => (this.sharded ? this.sub.sunsubscribe(...g) : this.sub.unsubscribe(...g)))));
    } catch {
      // The connection is down: its subscriptions are gone with it and are not restored for
      // channels unsubscribed meanwhile, since ioredis restores only what it tracks as subscribed.
    }
  }

  readSince(channel: string, since: StreamPosition, maxCount: number): Promise<HistoryRead> {
    return this.history.readSince(channel, since, maxCount);
  }

  async position(channel: string): Promise<StreamPosition> {
    if (!isAllOrders(publicChannel(channel))) return this.history.position(channel);
    const [e, s] = await guardRedis(() => this.scripts.streamPosition(channel));
    return { epoch: String(e), seq: Number(s) };
  }

  /** Redis channels grouped so that each group may go in one (S)SUBSCRIBE / (S)UNSUBSCRIBE call. */
  private bySlot(redisChannels: string[]): string[][] {
    if (!this.sharded) return redisChannels.length > 0 ? [redisChannels] : [];
    const groups = new Map<number, string[]>();
    for (const c of redisChannels) {
      const slot = calculateSlot(c);
      const list = groups.get(slot);
      if (list) list.push(c);
      else groups.set(slot, [c]);
    }
    return [...groups.values()];
  }
}
