import { hostname } from "node:os";
import type { NodeInfo, NodeService } from "@orderstream/wire";
import { NODE_INDEX_KEY, nodeKey } from "../layout/keys.js";
import { buildInfo } from "../runtime/build-info.js";
import type { RedisConnection } from "../runtime/redis-connection.js";

/** How often a node writes its registry entry: one SET (in one MULTI) per node per interval. */
export const NODE_HEARTBEAT_INTERVAL_MS = 5000;
/** A node whose heartbeat stopped disappears from the registry after this long (3 intervals). */
export const NODE_TTL_MS = 3 * NODE_HEARTBEAT_INTERVAL_MS;
/** How long stop() tries to remove the entry. */
const STOP_TIMEOUT_MS = 1000;
/** The index set outlives its entries; readers drop the members whose entry expired. */
const INDEX_TTL_MS = 20 * NODE_TTL_MS;

/** The name of a process that has no configured node id: `<host>:<pid>` (unique on a host, and a pod's host is its name). */
export function processNodeName(): string {
  return `${hostname()}:${process.pid}`;
}

/** Options of {@link NodeHeartbeat}. */
export interface NodeHeartbeatOptions {
  service: NodeService;
  /** The node's name (the edge's NODE_ID; default `<host>:<pid>`). */
  node?: string;
  /** The service's figures at the time of a heartbeat (edge: sockets, channels; processor: queue depth). */
  stats: () => Record<string, number>;
  /** A heartbeat that failed (Redis down): logged by the caller; the next one tries again. */
  onError: (err: unknown) => void;
  intervalMs?: number;
}

/**
 * Keeps this process in the cluster's node registry (what the admin page lists): every
 * {@link NODE_HEARTBEAT_INTERVAL_MS} it writes its entry (service, name, host, pid, version,
 * commit, start time, figures) with a TTL of {@link NODE_TTL_MS}, so a process that died drops out
 * on its own; stop() removes it at once. Keys carry one hash tag: one slot on a Redis Cluster.
 */
export class NodeHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly key: string;
  private readonly startedAt = Date.now();
  /** This node's name in the registry. */
  readonly node: string;

  constructor(
    private readonly redis: RedisConnection,
    private readonly opts: NodeHeartbeatOptions,
  ) {
    this.node = opts.node ?? processNodeName();
    this.key = nodeKey(opts.service, this.node);
  }

  /** Writes the entry now, then every interval (the timer does not keep the process alive). */
  start(): void {
    if (this.timer) return;
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.opts.intervalMs ?? NODE_HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  /** This node's entry as it would be written now. */
  entry(): NodeInfo {
    const b = buildInfo();
    return {
      service: this.opts.service,
      node: this.node,
      host: hostname(),
      pid: process.pid,
      version: b.version,
      commit: b.commit,
      started_at: this.startedAt,
      seen_at: Date.now(),
      stats: this.opts.stats(),
    };
  }

  /** One heartbeat (skipped while the previous one is still out); never throws. */
  beat(): Promise<void> {
    this.inFlight ??= (async () => {
      try {
        await this.redis
          .multi()
          .set(this.key, JSON.stringify(this.entry()), "PX", NODE_TTL_MS)
          .sadd(NODE_INDEX_KEY, this.key)
          .pexpire(NODE_INDEX_KEY, INDEX_TTL_MS)
          .exec();
      } catch (err) {
        this.opts.onError(err);
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }

  /**
   * Stops the heartbeat and removes the entry: best effort, given up after
   * {@link STOP_TIMEOUT_MS} (Redis down must not hold a shutdown; the entry expires anyway). Idempotent.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const remove = (async () => {
      await this.inFlight;
      try {
        await this.redis.multi().del(this.key).srem(NODE_INDEX_KEY, this.key).exec();
      } catch (err) {
        this.opts.onError(err);
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([remove, new Promise<void>((r) => (timer = setTimeout(r, STOP_TIMEOUT_MS)))]);
    clearTimeout(timer);
  }
}

const SERVICE_ORDER: Record<string, number> = { edge: 0, "order-api": 1, processor: 2 };

/** Every live node of the registry: edges, then order-api, then processors, each by name. */
export async function listNodes(redis: RedisConnection): Promise<NodeInfo[]> {
  const keys = await redis.smembers(NODE_INDEX_KEY);
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  const nodes: NodeInfo[] = [];
  const gone: string[] = [];
  values.forEach((v, i) => {
    if (v === null) gone.push(keys[i] as string);
    else {
      try {
        nodes.push(JSON.parse(v) as NodeInfo);
      } catch {
        gone.push(keys[i] as string);
      }
    }
  });
  // Entries that expired (a node that died): drop them from the index too.
  if (gone.length > 0) await redis.srem(NODE_INDEX_KEY, ...gone);
  return nodes.sort((a, b) => (SERVICE_ORDER[a.service] ?? 9) - (SERVICE_ORDER[b.service] ?? 9) || a.node.localeCompare(b.node));
}
