import { describe, expect, it } from "vitest";
import { type RuntimeFacts, loadNativeUws, nativeUws } from "./native-uws.js";

const bookwormNode24: RuntimeFacts = { nodeVersion: "v24.11.1", abi: "137", platform: "linux", arch: "x64", glibc: "2.36" };
const glibcError = (file: string) =>
  new Error(`This version of uWS.js (v20.56.0) supports only Node.js versions 20, 22, 24 and 25\n\nError: /lib/x86_64-linux-gnu/libc.so.6: version \`GLIBC_2.38' not found (required by ${file})`);

describe("loadNativeUws", () => {
  it("names the Node version, the ABI, the glibc found and the glibc needed when no native build loads", () => {
    const load = (name: string): unknown => {
      if (name === "uWebSockets.js") throw glibcError("uws_linux_x64_137.node");
      throw new Error("unreachable: no ABI-137 binary in the Node 20 build");
    };
    let message = "";
    try {
      loadNativeUws(load, bookwormNode24);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("Node v24.11.1 (ABI 137)");
    expect(message).toContain("glibc 2.36");
    expect(message).toContain("glibc >= 2.38");
    expect(message).toContain("GLIBC_2.38' not found");
    expect(message).toContain("no binary for ABI 137");
  });

  it("falls back to the Node 20 build for glibc < 2.38, and refuses a pure-JS fallback", () => {
    const native = { App: Object.assign(() => undefined, { toString: () => "function App() { [native code] }" }) };
    const js = { App: () => undefined };
    const node20: RuntimeFacts = { ...bookwormNode24, nodeVersion: "v20.20.2", abi: "115" };
    const first = (name: string): unknown => {
      if (name === "uWebSockets.js") throw glibcError("uws_linux_x64_115.node");
      return native;
    };
    expect(loadNativeUws(first, node20).from.name).toBe("uwebsockets.js-node20-glibc2.27");
    expect(() => loadNativeUws(() => js, node20)).toThrow(/pure-JS fallback/);
    expect(() => loadNativeUws(() => { throw new Error("Cannot find module 'x'"); }, { ...node20, glibc: undefined })).toThrow(/no glibc.*\n.*not installed/s);
  });

  it("loads the native build on this machine", () => {
    expect(String(nativeUws().App)).toContain("[native code]");
  });
});
