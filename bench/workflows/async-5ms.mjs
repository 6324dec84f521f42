// bench:workflow's I/O-bound workflow: every step awaits an async call of 5 ms (a stand-in for
// an HTTP call to a payment or shipping system), then applies the demo timeline's transition.
const call = () => new Promise((r) => setTimeout(r, 5));

export default {
  name: "async 5 ms per step",
  steps: {
    PENDING: { action: "confirm", run: call },
    CONFIRMED: { action: "process", run: call },
    PROCESSING: { action: "ship", run: call },
    SHIPPED: { action: "deliver", run: call },
  },
};
