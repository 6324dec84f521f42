import { type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, status } from "@grpc/grpc-js";
import { health } from "@orderstream/proto";
import { serviceError } from "./api-error.js";
import type { StreamRegistry } from "./stream-registry.js";

const { HealthCheckResponse_ServingStatus: Serving } = health;
type ServingStatus = health.HealthCheckResponse_ServingStatus;

/** The service names health answers for: "" (the whole server) and the order service. */
export const HEALTH_SERVICES = ["", "order.OrderService"] as const;

/**
 * Whether the server is SERVING: Redis reachable and not draining. Watchers are told every change.
 */
export class HealthState {
  private redisUp = false;
  private draining = false;
  private readonly watchers = new Set<(s: ServingStatus) => void>();

  /** The current serving status. */
  get status(): ServingStatus {
    return this.redisUp && !this.draining ? Serving.SERVING : Serving.NOT_SERVING;
  }

  /** Records whether the Redis command connection is ready. */
  setRedisUp(up: boolean): void {
    this.update(() => (this.redisUp = up));
  }

  /** Marks the server as draining: NOT_SERVING from now on. */
  setDraining(): void {
    this.update(() => (this.draining = true));
  }

  /** Calls `watcher` on every status change; returns the unsubscribe function. */
  watch(watcher: (s: ServingStatus) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  private update(change: () => void): void {
    const before = this.status;
    change();
    const after = this.status;
    if (after !== before) for (const w of [...this.watchers]) w(after);
  }
}

function known(service: string): boolean {
  return (HEALTH_SERVICES as readonly string[]).includes(service);
}

/** The grpc.health.v1.Health implementation (Check, List, Watch) over a {@link HealthState}. */
export function healthHandlers(state: HealthState, streams: StreamRegistry): health.HealthServer {
  return {
    check(call: ServerUnaryCall<health.HealthCheckRequest, health.HealthCheckResponse>, cb: sendUnaryData<health.HealthCheckResponse>) {
      if (!known(call.request.service)) {
        cb(serviceError(status.NOT_FOUND, `unknown service ${JSON.stringify(call.request.service)}`));
        return;
      }
      cb(null, { status: state.status });
    },
    list(_call: ServerUnaryCall<health.HealthListRequest, health.HealthListResponse>, cb: sendUnaryData<health.HealthListResponse>) {
      const statuses: Record<string, health.HealthCheckResponse> = {};
      for (const s of HEALTH_SERVICES) statuses[s] = { status: state.status };
      cb(null, { statuses });
    },
    watch(call: ServerWritableStream<health.HealthCheckRequest, health.HealthCheckResponse>) {
      const service = call.request.service;
      if (!known(service)) {
        call.write({ status: Serving.SERVICE_UNKNOWN });
      } else {
        call.write({ status: state.status });
      }
      const stopWatching = known(service) ? state.watch((s) => call.write({ status: s })) : () => undefined;
      const unregister = streams.add(() => {
        // setDraining() already told the watcher NOT_SERVING.
        stopWatching();
        call.end();
      });
      call.on("cancelled", () => {
        stopWatching();
        unregister();
      });
      call.on("finish", () => {
        stopWatching();
        unregister();
      });
    },
  };
}
