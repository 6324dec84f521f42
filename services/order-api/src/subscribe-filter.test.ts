import { describe, expect, it } from "vitest";
import { OrderStatus } from "@orderstream/proto";
import { ApiError } from "./api-error.js";
import { parseSubscribeFilter, resumeToken } from "./subscribe-filter.js";

const req = (over: Partial<{ statuses: string[]; userId: string; sinceOffset: string }>) => ({
  statuses: [],
  userId: "",
  sinceOffset: "",
  ...over,
});

describe("parseSubscribeFilter", () => {
  it("reads all orders from both all-orders channels by default", () => {
    expect(parseSubscribeFilter(req({}))).toEqual({
      statuses: undefined,
      channels: ["orders.created", "orders.status"],
      since: undefined,
    });
  });

  it("parses statuses case-insensitively and reads a user's channel", () => {
    const f = parseSubscribeFilter(req({ statuses: ["shipped", "Delivered"], userId: "u-1" }));
    expect([...(f.statuses ?? [])]).toEqual([OrderStatus.SHIPPED, OrderStatus.DELIVERED]);
    expect(f.channels).toEqual(["orders.user.u-1"]);
  });

  it("names the unknown status by index", () => {
    expect(() => parseSubscribeFilter(req({ statuses: ["PENDING", "LOST"] }))).toThrow("statuses[1]");
    try {
      parseSubscribeFilter(req({ statuses: ["x"] }));
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(3);
    }
  });

  it("rejects a bad user_id", () => {
    expect(() => parseSubscribeFilter(req({ userId: "a b" }))).toThrow("user_id");
    expect(() => parseSubscribeFilter(req({ userId: "x".repeat(129) }))).toThrow("user_id");
  });

  it("round-trips resume tokens of both stream kinds", () => {
    const all = resumeToken(["k1:5~2.3", ":0"]);
    expect(all).toBe("k1:5~2.3|:0");
    expect(parseSubscribeFilter(req({ sinceOffset: all })).since).toEqual(["k1:5~2.3", ":0"]);
    // A token of an earlier version names a channel without history by an empty piece.
    expect(parseSubscribeFilter(req({ sinceOffset: "abc:5|" })).since).toEqual(["abc:5", ":0"]);
    const user = resumeToken(["e1:9"]);
    expect(parseSubscribeFilter(req({ userId: "u", sinceOffset: user })).since).toEqual(["e1:9"]);
  });

  it("rejects a token of the other stream kind or garbage, naming since_offset", () => {
    expect(() => parseSubscribeFilter(req({ sinceOffset: "e1:9" }))).toThrow("since_offset");
    expect(() => parseSubscribeFilter(req({ userId: "u", sinceOffset: "e1:9|e2:1" }))).toThrow("since_offset");
    expect(() => parseSubscribeFilter(req({ userId: "u", sinceOffset: "" + "zz" }))).toThrow("since_offset");
  });
});
