/** Redis could not be reached (down, disconnected, or too slow): callers answer UNAVAILABLE. */
export class RedisUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Redis unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "RedisUnavailableError";
  }
}

/**
 * A write Redis applied but `WAIT` did not confirm on enough replicas within its timeout: it may
 * be lost if the primary fails now. Callers answer UNAVAILABLE with this message (it is client-safe).
 */
export class ReplicationUnconfirmedError extends RedisUnavailableError {
  constructor(
    readonly wanted: number,
    readonly reached: number,
  ) {
    super("");
    this.name = "ReplicationUnconfirmedError";
    this.message = `written but not confirmed on ${wanted} replica${wanted === 1 ? "" : "s"} (${reached} confirmed); it may be lost in a failover, retry with the same idempotency key`;
  }
}

const CONNECTION_MESSAGES = [
  "Stream isn't writeable",
  "Connection is closed",
  "Command timed out",
  "Reached the max retries per request limit",
  "connect ECONNREFUSED",
  "read ECONNRESET",
  "write EPIPE",
  "None of startup nodes is available",
  "Cluster isn't ready",
  // Sentinel: no sentinel answered, or the node behind the address was demoted to a replica
  // (the connection reconnects to the primary; this one command failed).
  "All sentinels are unreachable",
  "READONLY",
  // A Redis Cluster moving a slot to a promoted replica, or a node still loading its data: the
  // same command succeeds once the topology settles.
  "CLUSTERDOWN",
  "TRYAGAIN",
  "MASTERDOWN",
  "LOADING",
  "Too many Cluster redirections",
  "Failed to refresh slots cache",
  "connect ETIMEDOUT",
  "connect EHOSTUNREACH",
];

/** True when an ioredis error means the connection, not the command, failed. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof RedisUnavailableError) return true;
  if (!(err instanceof Error)) return false;
  return err.name === "MaxRetriesPerRequestError" || CONNECTION_MESSAGES.some((m) => err.message.includes(m));
}

/** Runs a Redis operation, turning connection failures into {@link RedisUnavailableError}. */
export async function guardRedis<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (isConnectionError(err)) throw new RedisUnavailableError(err);
    throw err;
  }
}
