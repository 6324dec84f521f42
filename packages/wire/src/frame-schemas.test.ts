import { describe, expect, it } from "vitest";
import { adminDisconnectResultFrame, adminFrame, adminNodesResultFrame, adminUserSocketsResultFrame } from "./admin-frames.js";
import { ERROR_CODES } from "./error-codes.js";
import { eventFrameText } from "./event-frame.js";
import { CLIENT_FRAME_SCHEMAS, SERVER_FRAME_SCHEMAS } from "./frame-schemas.js";
import {
  connectFrame,
  connectedFrame,
  errorFrame,
  processOrderFrame,
  processOrderResultFrame,
  refreshFrame,
  refreshedFrame,
  subscribeFrame,
  subscribedFrame,
  unsubscribeFrame,
  unsubscribedFrame,
} from "./frame-text.js";
import { createFrameValidator } from "./frame-validator.js";
import { CLIENT_FRAME_TYPES, SERVER_FRAME_TYPES } from "./frames.js";
import { isRequestId } from "./request-id.js";

const v = createFrameValidator();
const order = {
  id: "o-1",
  userId: "alice",
  items: [{ productId: "p", quantity: 2, price: 1.25 }],
  total: 2.5,
  status: "PENDING",
  createdAt: "2026-11-25T19:30:00.000Z",
};

describe("frame schemas", () => {
  it("has one schema per frame type, each with its own $id", () => {
    expect(Object.keys(CLIENT_FRAME_SCHEMAS).sort()).toEqual([...CLIENT_FRAME_TYPES].sort());
    expect(Object.keys(SERVER_FRAME_SCHEMAS).sort()).toEqual([...SERVER_FRAME_TYPES].sort());
    const ids = [...Object.values(CLIENT_FRAME_SCHEMAS), ...Object.values(SERVER_FRAME_SCHEMAS)].map((s) => s["$id"]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("accepts every server frame the builders make, with and without an id", () => {
    const frames = [
      connectedFrame("alice", 1_700_000_000),
      connectedFrame("bob", undefined, "c-1"),
      subscribedFrame(["orders.created", "orders.user.alice"], true, { "orders.created": "abc:5~2.3", "orders.user.alice": ":0" }, 7),
      unsubscribedFrame(["orders.created"], "u"),
      refreshedFrame(1_700_000_000, 3),
      refreshedFrame(undefined),
      processOrderResultFrame({ order_id: "o-1", status: "CANCELLED" }, 9),
      processOrderResultFrame({ order_id: "o-1", status: "", error_code: "not_found", message: "no such order" }),
      ...Object.keys(ERROR_CODES).map((c) => errorFrame(c as keyof typeof ERROR_CODES, "why", 1.5)),
      eventFrameText("order.created", "orders.created", "k3x9:5~1.4", JSON.stringify(order)),
      eventFrameText("order.status", "orders.user.alice", "k3x9:42", JSON.stringify({ ...order, status: "SHIPPED" })),
      adminNodesResultFrame(
        [
          {
            service: "edge",
            node: "edge-1",
            host: "h",
            pid: 12,
            version: "0.3.0",
            commit: "468bace2846e",
            started_at: 1_700_000_000_000,
            seen_at: 1_700_000_005_000,
            stats: { sockets: 3, channels: 2 },
          },
        ],
        "n",
      ),
      adminNodesResultFrame([]),
      adminUserSocketsResultFrame(
        "alice",
        [
          {
            id: 7,
            node: "edge-2",
            user: "alice",
            channels: ["orders.user.alice"],
            connected_at: 1_700_000_000_000,
            remote_address: "127.0.0.1",
          },
        ],
        2,
        3,
      ),
      adminDisconnectResultFrame("alice", 2, 2),
    ];
    for (const f of frames) expect(v.serverFrameProblem(f), f).toBeUndefined();
  });

  it("accepts every client frame the builders make", () => {
    const frames = [
      connectFrame("a.b.c", 1),
      subscribeFrame(["orders.created"], {}),
      subscribeFrame(["orders.user.bob"], { "orders.user.bob": "e1:3" }, "s-1"),
      unsubscribeFrame(["orders.user.bob"], 2),
      refreshFrame("a.b.c"),
      processOrderFrame("o-1", "cancel", 1_700_000_000_000, 4),
      processOrderFrame("o-1", undefined, 1_700_000_000_000),
      JSON.stringify({ type: "process_order", order_id: "o-1", timestamp: 1_700_000_000_000 }), // the article's
      adminFrame("admin.nodes", undefined, 1),
      adminFrame("admin.user_sockets", "alice"),
      adminFrame("admin.disconnect", "alice@example.com", "d-1"),
    ];
    for (const f of frames) expect(v.clientFrameProblem(f), f).toBeUndefined();
  });

  it("refuses frames that break the contract, saying where", () => {
    expect(v.serverFrameProblem(errorFrame("bad_request", "x", "a".repeat(65)))).toMatch(/\/id/);
    expect(v.serverFrameProblem(JSON.stringify({ type: "error", error: { code: "nope", message: "" } }))).toMatch(/\/error\/code/);
    expect(v.serverFrameProblem(JSON.stringify({ type: "subscribed", channels: [], recovered: true }))).toMatch(/offsets/);
    expect(v.serverFrameProblem(eventFrameText("order.created", "orders.*", "e:1", JSON.stringify(order)))).toMatch(/channel/);
    expect(v.serverFrameProblem(JSON.stringify({ type: "hello" }))).toMatch(/no known type/);
    expect(
      v.clientFrameProblem(JSON.stringify({ type: "subscribe", channels: ["orders.created"], since: { "orders.created": "x" } })),
    ).toMatch(/since/);
    expect(v.clientFrameProblem(JSON.stringify({ type: "connect" }))).toMatch(/token/);
    expect(v.clientFrameProblem("{")).toMatch(/not JSON/);
  });

  it("request ids: numbers, and strings of at most 64 characters", () => {
    for (const ok of [0, 7, -1, 1.5, "", "a", "x".repeat(64)]) expect(isRequestId(ok)).toBe(true);
    for (const bad of ["x".repeat(65), null, true, {}, [], undefined, Number.NaN]) expect(isRequestId(bad)).toBe(false);
  });
});

describe("the event frame template", () => {
  it("is the exact bytes a client receives (data appended unchanged)", () => {
    const data = '{"id":"o-1","userId":"u","items":[],"total":0,"createdAt":"2026-01-01T00:00:00.000Z","status":"PENDING"}';
    expect(eventFrameText("order.created", "orders.user.u", "e:1", data)).toBe(
      `{"type":"order.created","channel":"orders.user.u","offset":"e:1","data":${data}}`,
    );
  });
});
