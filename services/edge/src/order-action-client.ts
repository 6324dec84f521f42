import { type ClientDuplexStream, Metadata, credentials } from "@grpc/grpc-js";
import { signServiceToken } from "@orderstream/auth";
import { type OrderAction, type OrderResult, OrderServiceClient, OrderStatus } from "@orderstream/proto";
import type { Logger } from "./logger.js";

interface Waiter {
  resolve: (r: OrderResult) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** The order-api could not be reached or did not answer in time. */
export class OrderApiUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OrderApiUnavailableError";
  }
}

/** How the edge reaches order-api. */
export interface OrderActionClientOptions {
  /** TLS towards order-api (`ca` undefined = the system's roots); undefined = plaintext. */
  tls?: { ca: Buffer | undefined } | undefined;
  /** The HS256 secret of the service token sent with every ProcessOrders stream; none without it. */
  serviceTokenSecret?: string | undefined;
  /** Named in the service token's `sub` (`edge:<nodeId>`). */
  nodeId?: string;
  /** How long an action waits for its result. */
  timeoutMs?: number;
}

/** Lifetime of the service token: it is checked when a stream opens, and each (re)open signs a new one. */
const SERVICE_TOKEN_TTL_S = 300;

/**
 * Forwards order actions to order-api over ONE shared ProcessOrders bidi stream per node. Results
 * are matched to requests by order id, first in first out per id; the stream is reopened on the
 * next request after it broke, and everything in flight on a broken stream fails as unavailable.
 * The stream carries the edge's own short-lived admin token (order-api's ProcessOrders is for
 * admins): the edge has already checked that the socket's user owns the order.
 */
export class OrderActionClient {
  private readonly client: OrderServiceClient;
  private stream: ClientDuplexStream<OrderAction, OrderResult> | undefined;
  private readonly waiting = new Map<string, Waiter[]>();
  private closed = false;

  private readonly timeoutMs: number;

  constructor(
    address: string,
    private readonly log: Logger,
    private readonly opts: OrderActionClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    const creds = opts.tls ? credentials.createSsl(opts.tls.ca ?? null) : credentials.createInsecure();
    this.client = new OrderServiceClient(address, creds);
  }

  /** Sends one action and resolves with its result. */
  send(orderId: string, action: string): Promise<OrderResult> {
    if (this.closed) return Promise.reject(new OrderApiUnavailableError("edge is shutting down"));
    const stream = this.open();
    return new Promise<OrderResult>((resolve, reject) => {
      const queue = this.waiting.get(orderId) ?? [];
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const q = this.waiting.get(orderId);
          const i = q?.indexOf(waiter) ?? -1;
          if (q && i >= 0) q.splice(i, 1);
          if (q?.length === 0) this.waiting.delete(orderId);
          reject(new OrderApiUnavailableError(`order-api did not answer within ${this.timeoutMs} ms`));
        }, this.timeoutMs),
      };
      queue.push(waiter);
      this.waiting.set(orderId, queue);
      stream.write({ orderId, action, payload: Buffer.alloc(0) });
    });
  }

  private open(): ClientDuplexStream<OrderAction, OrderResult> {
    if (this.stream) return this.stream;
    const md = new Metadata();
    const secret = this.opts.serviceTokenSecret;
    if (secret !== undefined) md.set("authorization", `Bearer ${signServiceToken(secret, `edge:${this.opts.nodeId ?? "edge"}`, SERVICE_TOKEN_TTL_S)}`);
    const stream = this.client.processOrders(md);
    this.stream = stream;
    stream.on("data", (r: OrderResult) => {
      const q = this.waiting.get(r.orderId);
      const w = q?.shift();
      if (q?.length === 0) this.waiting.delete(r.orderId);
      if (!w) {
        this.log.warn({ orderId: r.orderId }, "order-api result without a waiting request");
        return;
      }
      clearTimeout(w.timer);
      w.resolve(r);
    });
    const broken = (why: string): void => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      if (!this.closed) this.log.warn({ why }, "ProcessOrders stream ended; reopened on the next action");
      this.failAll(why);
    };
    stream.on("error", (err: Error) => broken(err.message));
    stream.on("end", () => broken("stream ended"));
    return stream;
  }

  private failAll(why: string): void {
    for (const q of this.waiting.values())
      for (const w of q) {
        clearTimeout(w.timer);
        w.reject(new OrderApiUnavailableError(`order-api stream broke: ${why}`));
      }
    this.waiting.clear();
  }

  /** Ends the stream and the channel; pending actions fail as unavailable. */
  close(): void {
    this.closed = true;
    const s = this.stream;
    this.stream = undefined;
    s?.cancel();
    this.failAll("closed");
    this.client.close();
  }
}

/** The enum name of a result's status ("" for an unknown value). */
export function resultStatusName(status: OrderStatus): string {
  const name = OrderStatus[status];
  return typeof name === "string" && name !== "UNRECOGNIZED" ? name : "";
}
