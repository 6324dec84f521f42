import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DisconnectedError, RequestTimeoutError, ServerError } from "./client-errors.js";
import { PendingActions } from "./pending-actions.js";

describe("PendingActions (results matched by order id, FIFO)", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("resolves requests of the same order in the order they were made", async () => {
    const p = new PendingActions(1000);
    const a = p.add("o1");
    const b = p.add("o1");
    const c = p.add("o2");
    expect(p.resolve({ orderId: "o2", status: "CONFIRMED" })).toBe(true);
    expect(p.resolve({ orderId: "o1", status: "CONFIRMED" })).toBe(true);
    expect(p.resolve({ orderId: "o1", status: "", errorCode: "invalid_transition" })).toBe(true);
    expect(p.resolve({ orderId: "o1", status: "X" })).toBe(false);
    await expect(a).resolves.toEqual({ orderId: "o1", status: "CONFIRMED" });
    await expect(b).resolves.toMatchObject({ errorCode: "invalid_transition" });
    await expect(c).resolves.toMatchObject({ orderId: "o2" });
    expect(p.size).toBe(0);
  });

  it("times out, and drops the late result instead of giving it to the next request", async () => {
    const p = new PendingActions(1000);
    const first = p.add("o1");
    const firstErr = first.catch((e: unknown) => e);
    vi.advanceTimersByTime(1001);
    expect(await firstErr).toBeInstanceOf(RequestTimeoutError);
    const second = p.add("o1");
    expect(p.resolve({ orderId: "o1", status: "LATE" })).toBe(false);
    expect(p.resolve({ orderId: "o1", status: "MINE" })).toBe(true);
    await expect(second).resolves.toMatchObject({ status: "MINE" });
  });

  it("rejects the oldest request of an order with a server error", async () => {
    const p = new PendingActions(1000);
    const a = p.add("o1");
    expect(p.reject("o1", new ServerError("forbidden", "not allowed"))).toBe(true);
    await expect(a).rejects.toMatchObject({ code: "forbidden" });
  });

  it("rejectAll() rejects everything with DisconnectedError and clears the timers", async () => {
    const p = new PendingActions(1000);
    const all = [p.add("o1"), p.add("o1"), p.add("o2")].map((x) => x.catch((e: unknown) => e));
    p.rejectAll("connection closed");
    for (const e of await Promise.all(all)) expect(e).toBeInstanceOf(DisconnectedError);
    expect(p.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
