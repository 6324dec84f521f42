import { afterEach, describe, expect, it, vi } from "vitest";
import { TypedEmitter } from "./typed-emitter.js";

class Emitter extends TypedEmitter<{ error: unknown; tick: number }> {
  fire<K extends "error" | "tick">(e: K, p: K extends "tick" ? number : unknown): void {
    this.emit(e, p as never);
  }
}

describe("TypedEmitter", () => {
  afterEach(() => vi.restoreAllMocks());

  it("calls listeners in order, removes them with the returned function", () => {
    const em = new Emitter();
    const got: string[] = [];
    const off = em.on("tick", (n) => got.push(`a${n}`));
    em.on("tick", (n) => got.push(`b${n}`));
    em.fire("tick", 1);
    off();
    em.fire("tick", 2);
    expect(got).toEqual(["a1", "b1", "b2"]);
    expect(em.listenerCount("tick")).toBe(1);
  });

  it("a throwing listener does not stop the others and is reported as error", () => {
    const em = new Emitter();
    const errors: unknown[] = [];
    const got: number[] = [];
    em.on("error", (e) => errors.push(e));
    em.on("tick", () => {
      throw new Error("bad listener");
    });
    em.on("tick", (n) => got.push(n));
    em.fire("tick", 7);
    expect(got).toEqual([7]);
    expect((errors[0] as Error).message).toBe("bad listener");
  });

  it("an error nobody listens to is not swallowed: it goes to console.warn", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    new Emitter().fire("error", new Error("lost?"));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[1])).toMatch(/lost\?/);
  });
});
