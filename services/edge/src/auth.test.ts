import { describe, expect, it } from "vitest";
import { tokenFromRequest } from "./auth.js";

describe("tokenFromRequest", () => {
  it("takes the query token first, else a Bearer header", () => {
    expect(tokenFromRequest("q", "Bearer h")).toBe("q");
    expect(tokenFromRequest(undefined, "bearer  h ")).toBe("h");
    expect(tokenFromRequest(undefined, "")).toBeUndefined();
    expect(tokenFromRequest(undefined, "Basic x")).toBeUndefined();
  });
});
