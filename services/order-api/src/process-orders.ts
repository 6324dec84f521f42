import { type ServerDuplexStream, status } from "@grpc/grpc-js";
import { type OrderStore, RedisUnavailableError, ReplicationUnconfirmedError } from "@orderstream/bus";
import { isOrderAction } from "@orderstream/domain";
import { type OrderAction, type OrderResult, OrderStatus } from "@orderstream/proto";
import type { Logger } from "pino";
import { serviceError, toServiceError } from "./api-error.js";
import { type CallAuth, requireAdmin } from "./call-auth.js";
import type { StreamRegistry } from "./stream-registry.js";

/** What ProcessOrders needs. */
export interface ProcessOrdersDeps {
  store: OrderStore;
  streams: StreamRegistry;
  log: Logger;
  auth: CallAuth;
}

/** Actions one stream may have in flight before reading from it pauses. */
const MAX_IN_FLIGHT = 64;
const MAX_ORDER_ID_LENGTH = 128;

function result(orderId: string, code: string, message: string, s = OrderStatus.PENDING): OrderResult {
  return { orderId, status: s, message, errorCode: code };
}

/** Applies one action and describes the outcome; never throws. */
export async function applyAction(store: OrderStore, action: OrderAction, log: Logger): Promise<OrderResult> {
  const { orderId } = action;
  const name = action.action.trim().toLowerCase();
  if (orderId === "" || orderId.length > MAX_ORDER_ID_LENGTH)
    return result(orderId, "invalid_argument", `order_id: must be 1 to ${MAX_ORDER_ID_LENGTH} characters`);
  if (!isOrderAction(name))
    return result(
      orderId,
      "invalid_argument",
      `action: unknown action ${JSON.stringify(action.action.slice(0, 64))}; expected confirm, process, ship, deliver, cancel or retry`,
    );
  try {
    const r = await store.transition(orderId, name);
    if (r.ok) return result(orderId, "", `${name}: ${OrderStatus[r.from]} -> ${OrderStatus[r.order.status]}`, r.order.status);
    if (r.code === "not_found") return result(orderId, "not_found", `order ${orderId} not found`);
    const cur = r.order.status;
    return result(orderId, "invalid_transition", `cannot ${name} an order that is ${OrderStatus[cur]}`, cur);
  } catch (err) {
    if (err instanceof ReplicationUnconfirmedError) return result(orderId, "unavailable", err.message);
    if (err instanceof RedisUnavailableError) return result(orderId, "unavailable", "storage unavailable, retry later");
    log.error({ err, rpc: "ProcessOrders", orderId, action: name }, "action failed");
    return result(orderId, "internal", "internal error");
  }
}

/**
 * ProcessOrders: one OrderResult per OrderAction, in the order the actions were sent; a failed
 * action is a result with an error_code and the stream goes on. Actions on different orders run
 * concurrently (up to MAX_IN_FLIGHT per stream), actions on the same order one after another.
 * Reading pauses while too many results are outstanding or the client is not reading them.
 * Admins only: nothing is read before the caller is known to be one.
 */
export function processOrders(deps: ProcessOrdersDeps) {
  return (call: ServerDuplexStream<OrderAction, OrderResult>): void => {
    deps.auth.caller(call.metadata).then(
      (who) => {
        requireAdmin(who, "ProcessOrders");
        if (!call.cancelled) runActions(deps, call);
      },
    ).catch((err: unknown) => {
      if (!call.cancelled) call.emit("error", toServiceError(err, deps.log, { rpc: "ProcessOrders" }));
    });
  };
}

/** Applies the actions of a stream whose caller is an admin (or unchecked). */
function runActions(deps: ProcessOrdersDeps, call: ServerDuplexStream<OrderAction, OrderResult>): void {
  const chains = new Map<string, Promise<void>>();
  // Results not yet written, in request order; a slot is filled when its action is done.
  const slots: { result: OrderResult | undefined }[] = [];
  let writeBlocked = false;
  let inputEnded = false;
  let closed = false;

  const unregister = deps.streams.add(() => {
    if (closed) return;
    closed = true;
    call.emit("error", serviceError(status.UNAVAILABLE, "server shutting down; reopen the stream"));
  });
  const settle = (): void => {
    while (!closed && !writeBlocked && slots[0]?.result) {
      const { result } = slots.shift() as { result: OrderResult };
      writeBlocked = !call.write(result);
    }
    if (closed) return;
    if (writeBlocked || slots.length >= MAX_IN_FLIGHT) call.pause();
    else call.resume();
    if (inputEnded && slots.length === 0) {
      closed = true;
      unregister();
      call.end();
    }
  };
  call.on("drain", () => {
    writeBlocked = false;
    settle();
  });
  call.on("data", (action: OrderAction) => {
    if (closed) return; // draining or cancelled: apply nothing more
    const slot: { result: OrderResult | undefined } = { result: undefined };
    slots.push(slot);
    const key = action.orderId;
    const prev = chains.get(key) ?? Promise.resolve();
    const next = prev.then(async () => {
      slot.result = await applyAction(deps.store, action, deps.log);
    });
    chains.set(key, next);
    void next.then(() => {
      if (chains.get(key) === next) chains.delete(key);
      settle();
    });
    if (slots.length >= MAX_IN_FLIGHT) call.pause();
  });
  call.on("end", () => {
    inputEnded = true;
    settle();
  });
  call.on("cancelled", () => {
    closed = true;
    unregister();
  });
  call.on("error", (err) => deps.log.debug({ err, rpc: "ProcessOrders" }, "stream error"));
}
