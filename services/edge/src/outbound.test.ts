import { errorFrame } from "@orderstream/wire";
import { describe, expect, it } from "vitest";
import { outbound } from "./outbound.js";
import type { EdgeSocket } from "./socket-state.js";

function fakeSocket(): { ws: EdgeSocket; sent: string[] } {
  const sent: string[] = [];
  return { ws: { send: (t: string) => sent.push(t) } as unknown as EdgeSocket, sent };
}

describe("outbound frames (EDGE_VALIDATE_FRAMES)", () => {
  it("checks every frame against its schema and reports a mismatch before it leaves", () => {
    const problems: string[] = [];
    const out = outbound(true, (p) => problems.push(p));
    const { ws, sent } = fakeSocket();
    out.send(ws, errorFrame("forbidden", "no", 1));
    expect(problems).toEqual([]);
    out.send(ws, JSON.stringify({ type: "subscribed", channels: ["orders.created"] }));
    out.check('{"type":"order.created","channel":"orders.created","offset":"nope","data":{}}');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/subscribed does not match its schema.*offsets/);
    expect(problems[1]).toMatch(/order\.created/);
    expect(sent).toHaveLength(2);
  });

  it("sends frames unchecked when validation is off", () => {
    const out = outbound(false, () => {
      throw new Error("must not be called");
    });
    const { ws, sent } = fakeSocket();
    out.send(ws, "{}");
    out.check("{}");
    expect(sent).toEqual(["{}"]);
  });
});
