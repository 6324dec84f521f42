import { isAdminAction, isOrderAction } from "@orderstream/domain";
import type { Principal } from "./auth.js";
import type { Logger } from "./logger.js";
import { type OrderActionClient, resultStatusName } from "./order-action-client.js";
import type { ProcessOrderResult } from "./protocol.js";

/**
 * The WebSocket `process_order`: checks the action name and that the caller owns the order (the
 * owner is read through the bus) or is an admin, then forwards it to order-api.
 */
export class OrderActions {
  constructor(
    private readonly ownerOf: (orderId: string) => Promise<string | undefined>,
    private readonly api: OrderActionClient,
    private readonly log: Logger,
  ) {}

  /** Runs one action for `who`; never throws, every failure is a result with an error code. */
  async process(who: Principal, orderId: string, action: string): Promise<ProcessOrderResult> {
    if (!isOrderAction(action))
      return { orderId, status: "", errorCode: "invalid_argument", message: "action must be one of confirm, process, ship, deliver, cancel, retry" };
    if (isAdminAction(action) && !who.admin) return { orderId, status: "", errorCode: "forbidden", message: `${action} is for admins` };
    let owner: string | undefined;
    try {
      owner = await this.ownerOf(orderId);
    } catch (err) {
      this.log.error({ err, orderId }, "reading the order owner failed");
      return { orderId, status: "", errorCode: "unavailable", message: "order store unavailable" };
    }
    if (owner === undefined) {
      if (!who.admin) return { orderId, status: "", errorCode: "forbidden", message: "not your order" };
    } else if (!who.admin && who.userId !== owner) {
      return { orderId, status: "", errorCode: "forbidden", message: "not your order" };
    }
    try {
      const r = await this.api.send(orderId, action);
      const out: ProcessOrderResult = { orderId: r.orderId, status: resultStatusName(r.status) };
      if (r.errorCode) out.errorCode = r.errorCode;
      if (r.message) out.message = r.message;
      return out;
    } catch (err) {
      this.log.warn({ err, orderId, action }, "forwarding process_order failed");
      return { orderId, status: "", errorCode: "unavailable", message: "order-api unavailable" };
    }
  }
}
