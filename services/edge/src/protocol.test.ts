import { describe, expect, it } from "vitest";
import { parseClientMessage, processOrderResultFrame } from "./protocol.js";

describe("parseClientMessage", () => {
  it("reads the seed's process_order without an action as `process`", () => {
    expect(parseClientMessage(JSON.stringify({ type: "process_order", order_id: "o1", timestamp: 1 }))).toEqual({
      ok: true,
      msg: { type: "process_order", orderId: "o1", action: "process" },
    });
  });

  it("parses since offsets and rejects malformed ones", () => {
    const r = parseClientMessage(JSON.stringify({ type: "subscribe", channels: ["orders.status"], since: { "orders.status": "ab12:7" } }));
    expect(r.ok && r.msg.type === "subscribe" && r.msg.since.get("orders.status")).toBe("ab12:7");
    const composite = parseClientMessage(JSON.stringify({ type: "subscribe", channels: ["orders.status"], since: { "orders.status": "k2:9~4.0.5" } }));
    expect(composite.ok && composite.msg.type === "subscribe" && composite.msg.since.get("orders.status")).toBe("k2:9~4.0.5");
    for (const off of ["ab12", "a:b", "a:1~", "a:1~1..2", 7]) {
      const r2 = parseClientMessage(JSON.stringify({ type: "subscribe", channels: ["orders.status"], since: { "orders.status": off } }));
      expect(r2, String(off)).toMatchObject({ ok: false, error: { code: "bad_request" } });
    }
    expect(parseClientMessage(JSON.stringify({ type: "subscribe", channels: [], since: [] }))).toMatchObject({ ok: false, error: { code: "bad_request" } });
    // The offset `subscribed` reports for a channel without history round-trips.
    const empty = parseClientMessage(JSON.stringify({ type: "subscribe", channels: ["orders.status"], since: { "orders.status": ":0" } }));
    expect(empty.ok && empty.msg.type === "subscribe" && empty.msg.since.get("orders.status")).toBe(":0");
  });

  it("omits empty error fields from process_order.result", () => {
    expect(JSON.parse(processOrderResultFrame({ orderId: "o", status: "PROCESSING" }))).toEqual({
      type: "process_order.result",
      order_id: "o",
      status: "PROCESSING",
    });
  });
});
