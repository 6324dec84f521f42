import { errorFrame } from "@orderstream/wire";
import { describe, expect, it } from "vitest";
import { outbound } from "./outbound.js";
import type { EdgeSocket } from "./socket-state.js";

function fakeSocket(): { ws: EdgeSocket; sent: string[]; hints: boolean[] } {
  const sent: string[] = [];
  const hints: boolean[] = [];
  const send = (t: string, _binary: boolean, compress: boolean) => {
    sent.push(t);
    hints.push(compress);
  };
  return { ws: { send } as unknown as EdgeSocket, sent, hints };
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

  it("asks uWS to deflate every frame when EDGE_COMPRESSION is on (uWS does it only for sockets that negotiated it)", () => {
    for (const validate of [false, true]) {
      const on = outbound(validate, () => undefined, true);
      const off = outbound(validate, () => undefined);
      const a = fakeSocket();
      const b = fakeSocket();
      on.send(a.ws, errorFrame("forbidden", "no", 1));
      off.send(b.ws, errorFrame("forbidden", "no", 1));
      expect([on.compress, a.hints]).toEqual([true, [true]]);
      expect([off.compress, b.hints]).toEqual([false, [false]]);
    }
  });
});
