import { describe, expect, it } from "vitest";
import { parseClientMessage } from "./protocol.js";

describe("parseClientMessage", () => {
  it("reads the seed's process_order without an action as `process`", () => {
    expect(parseClientMessage(JSON.stringify({ type: "process_order", order_id: "o1", timestamp: 1 }))).toEqual({
      ok: true,
      msg: { type: "process_order", orderId: "o1", action: "process", id: undefined },
    });
  });

  it("parses the admin frames, with a user of 1 to 256 characters where one is named", () => {
    expect(parseClientMessage('{"type":"admin.nodes","id":1}')).toEqual({ ok: true, msg: { type: "admin.nodes", id: 1 } });
    expect(parseClientMessage('{"type":"admin.disconnect","user":"a@b"}')).toEqual({
      ok: true,
      msg: { type: "admin.disconnect", user: "a@b", id: undefined },
    });
    for (const user of [undefined, "", 7, "x".repeat(257)])
      expect(parseClientMessage(JSON.stringify({ type: "admin.user_sockets", user })), String(user)).toMatchObject({
        ok: false,
        error: { code: "bad_request" },
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

  it("carries a valid id to the replies, refuses a bad one without echoing it", () => {
    const ok = parseClientMessage(JSON.stringify({ type: "connect", token: "a.b.c", id: "c-1" }));
    expect(ok).toEqual({ ok: true, msg: { type: "connect", token: "a.b.c", id: "c-1" } });
    expect(parseClientMessage(JSON.stringify({ type: "unsubscribe", channels: [], id: 7 }))).toMatchObject({ ok: true, msg: { id: 7 } });
    for (const id of [true, null, {}, [1], "x".repeat(65)]) {
      const r = parseClientMessage(JSON.stringify({ type: "subscribe", channels: ["orders.status"], id }));
      expect(r, JSON.stringify(id)).toMatchObject({ ok: false, error: { code: "bad_request", id: undefined }, type: "subscribe" });
      expect(!r.ok && r.error.message).toMatch(/field id must be a number or a string of at most 64 characters/);
    }
    // An error about anything else still answers with the frame's id.
    expect(parseClientMessage(JSON.stringify({ type: "subscribe", channels: "x", id: 3 }))).toMatchObject({ ok: false, error: { id: 3 } });
  });

  it("refuses a connect without a usable token", () => {
    for (const token of [undefined, "", 5, "x".repeat(8193)])
      expect(parseClientMessage(JSON.stringify({ type: "connect", token })), String(token).slice(0, 10)).toMatchObject({
        ok: false,
        error: { code: "bad_request" },
        type: "connect",
      });
  });
});
