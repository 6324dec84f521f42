import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { RedisUnavailableError, ReplicationUnconfirmedError } from "@orderstream/bus";
import { ValidationError } from "@orderstream/domain";
import type { Logger } from "pino";

/** An error that carries the gRPC status it must be answered with; its message is client-safe. */
export class ApiError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** A gRPC error object that grpc-js sends as the call's status. */
export function serviceError(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

/**
 * Maps any thrown value to the status the caller gets: typed errors keep their code, Redis outages
 * become UNAVAILABLE, validation errors INVALID_ARGUMENT; anything else is logged with `context`
 * and answered INTERNAL without leaking internals.
 */
export function toServiceError(err: unknown, log: Logger, context: Record<string, unknown>): ServiceError {
  if (err instanceof ApiError) return serviceError(err.code, err.message);
  if (err instanceof ValidationError) return serviceError(status.INVALID_ARGUMENT, err.message);
  if (err instanceof ReplicationUnconfirmedError) {
    log.warn({ ...context, err: err.message }, "write not confirmed by WAIT");
    return serviceError(status.UNAVAILABLE, err.message);
  }
  if (err instanceof RedisUnavailableError) {
    log.warn({ ...context, err: err.message }, "redis unavailable");
    return serviceError(status.UNAVAILABLE, "storage unavailable, retry later");
  }
  log.error({ ...context, err }, "internal error");
  return serviceError(status.INTERNAL, "internal error");
}
