import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signJwt, TokenSource } from "./jwt.js";
import { assignSocket, splitRange } from "./socket-plan.js";
import { isLoopbackHost, LOCAL_PORT_BASE, planSourceAddresses, remoteTargets, sourceFor, withToken } from "./target.js";

describe("targets", () => {
  it("tells loopback from remote hosts", () => {
    for (const h of ["localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1"]) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ["10.0.0.1", "192.0.2.1", "example.com", "::2", "128.0.0.1"]) expect(isLoopbackHost(h)).toBe(false);
    expect(remoteTargets(["ws://127.0.0.1:9001/ws", "ws://10.1.1.1:9001/ws"], "db.example:50051")).toEqual([
      "ws://10.1.1.1:9001/ws",
      "grpc://db.example:50051",
    ]);
  });

  it("adds the token as a query parameter", () => {
    expect(withToken("ws://127.0.0.1:9001/ws", "a.b.c")).toBe("ws://127.0.0.1:9001/ws?token=a.b.c");
    expect(withToken("ws://127.0.0.1:9001/ws", undefined)).toBe("ws://127.0.0.1:9001/ws");
  });

  it("keeps the kernel's choice for the first block and binds explicit ports on 127.0.0.2+ past it", () => {
    expect(planSourceAddresses("auto", ["ws://127.0.0.1:9001/ws"], 1000, 25_000)).toEqual([]);
    const plan = planSourceAddresses("auto", ["ws://127.0.0.1:9001/ws", "ws://localhost:9002/ws"], 60_000, 25_000);
    expect(plan).toEqual([null, "127.0.0.2", "127.0.0.3"]);
    expect(planSourceAddresses("auto", ["ws://[::1]:9001/ws"], 60_000, 25_000)).toEqual([]);
    expect(sourceFor(24_999, plan, 25_000)).toEqual({});
    expect(sourceFor(25_000, plan, 25_000)).toEqual({ localAddress: "127.0.0.2", localPort: LOCAL_PORT_BASE });
    expect(sourceFor(59_999, plan, 25_000)).toEqual({ localAddress: "127.0.0.3", localPort: LOCAL_PORT_BASE + 9_999 });
  });
});

describe("socket plan", () => {
  it("spreads per-user sockets evenly at the ratio and cycles the user pool", () => {
    const p = { urls: ["ws://a/ws", "ws://b/ws"], channels: ["orders.created"], userRatio: 0.25, users: 2 };
    const all = Array.from({ length: 8 }, (_, i) => assignSocket(i, p));
    expect(all.filter((a) => a.userId !== undefined).map((a) => a.channels[0])).toEqual([
      "orders.user.lg-user-0",
      "orders.user.lg-user-1",
    ]);
    expect(all.map((a) => a.url)).toEqual(["ws://a/ws", "ws://b/ws", "ws://a/ws", "ws://b/ws", "ws://a/ws", "ws://b/ws", "ws://a/ws", "ws://b/ws"]);
    expect(splitRange(10, 3)).toEqual([{ start: 0, count: 4 }, { start: 4, count: 3 }, { start: 7, count: 3 }]);
  });
});

describe("tokens", () => {
  it("signs HS256 tokens a server can verify, admin for all-orders and sub=<user> for user channels", () => {
    const t = signJwt({ sub: "u1" }, "s3cret");
    const [h, p, sig] = t.split(".") as [string, string, string];
    expect(createHmac("sha256", "s3cret").update(`${h}.${p}`).digest("base64url")).toBe(sig);
    expect(JSON.parse(Buffer.from(h, "base64url").toString())).toEqual({ alg: "HS256", typ: "JWT" });
    const src = new TokenSource(undefined, "s3cret");
    const claims = (tok: string | undefined): Record<string, unknown> =>
      JSON.parse(Buffer.from((tok ?? "").split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;
    expect(claims(src.admin())).toMatchObject({ admin: true });
    expect(claims(src.user("lg-user-3"))).toMatchObject({ sub: "lg-user-3" });
    expect(claims(src.user("lg-user-3")).exp).toBeGreaterThan(Date.now() / 1000);
    expect(new TokenSource("fixed", undefined).user("x")).toBe("fixed");
    expect(new TokenSource(undefined, undefined).admin()).toBeUndefined();
  });
});
