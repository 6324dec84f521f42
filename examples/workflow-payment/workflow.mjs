// An orderstream workflow that does real I/O: charge the payment when the order is placed, buy a
// shipping label when it is processed, deliver a little later. Load it with
//   PROCESSOR_WORKFLOW=examples/workflow-payment/workflow.mjs
//   WORKFLOW_PAYMENT_URL=http://127.0.0.1:8700  WORKFLOW_SHIPPING_URL=http://127.0.0.1:8700
// Every call to another system carries the step's idempotency key: a step that runs twice (a retry,
// a processor killed mid-step) charges once.
import { PermanentError, defineWorkflow } from "@orderstream/workflow";

const paymentUrl = process.env.WORKFLOW_PAYMENT_URL ?? "http://127.0.0.1:8700";
const shippingUrl = process.env.WORKFLOW_SHIPPING_URL ?? paymentUrl;

/** POSTs JSON with the step's idempotency key; a 4xx is final, anything else not 2xx is retried. */
async function post(url, ctx, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": ctx.idempotencyKey },
    body: JSON.stringify(body),
    signal: ctx.signal,
  });
  const text = await res.text();
  if (res.status >= 400 && res.status < 500) throw new PermanentError(`${new URL(url).pathname}: ${res.status} ${text}`.slice(0, 200));
  if (!res.ok) throw new Error(`${new URL(url).pathname}: ${res.status} ${text}`.slice(0, 200));
  return JSON.parse(text);
}

export default defineWorkflow({
  name: "payment and shipping",
  steps: {
    PENDING: {
      action: "confirm",
      timeoutMs: 1000,
      attempts: 4,
      backoffMs: 200,
      async run(ctx) {
        const charge = await post(`${paymentUrl}/charges`, ctx, {
          orderId: ctx.order.id,
          userId: ctx.order.userId,
          amount: ctx.order.total,
        });
        ctx.note(`payment captured: ${charge.id}`);
      },
    },
    CONFIRMED: { action: "process" },
    PROCESSING: {
      action: "ship",
      timeoutMs: 1000,
      async run(ctx) {
        const label = await post(`${shippingUrl}/labels`, ctx, { orderId: ctx.order.id });
        ctx.note(`tracking number ${label.tracking}`);
      },
    },
    SHIPPED: { action: "deliver", delayMs: 200 },
  },
});
