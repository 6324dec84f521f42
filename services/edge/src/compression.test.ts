import { describe, expect, it } from "vitest";
import { COMPRESSION_MODES, uwsCompression } from "./compression.js";
import { nativeUws } from "./native-uws.js";

describe("EDGE_COMPRESSION to uWS's compression option", () => {
  const uWS = nativeUws();

  it("maps off to DISABLED, shared to the shared compressor, dedicated-<n>kb to that window; clients' frames always use the shared decompressor", () => {
    expect(uwsCompression(uWS, "off")).toBe(uWS.DISABLED);
    expect(uwsCompression(uWS, "shared")).toBe(uWS.SHARED_COMPRESSOR | uWS.SHARED_DECOMPRESSOR);
    expect(uwsCompression(uWS, "dedicated-3kb")).toBe(uWS.DEDICATED_COMPRESSOR_3KB | uWS.SHARED_DECOMPRESSOR);
    expect(uwsCompression(uWS, "dedicated-256kb")).toBe(uWS.DEDICATED_COMPRESSOR_256KB | uWS.SHARED_DECOMPRESSOR);
  });

  it("has a uWS constant for every mode of the loaded build, each one different", () => {
    const values = COMPRESSION_MODES.map((m) => uwsCompression(uWS, m));
    expect(values.every((v) => Number.isInteger(v))).toBe(true);
    expect(new Set(values).size).toBe(COMPRESSION_MODES.length);
  });
});
