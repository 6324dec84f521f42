import { describe, expect, it } from "vitest";
import { WATCH_USAGE, WatchUsageError, parseWatchArgs } from "./watch-args.js";

describe("orderstream-watch arguments", () => {
  it("takes a URL, channels and an optional token", () => {
    expect(parseWatchArgs(["ws://127.0.0.1:9001/ws", "orders.created", "orders.status", "--token", "T"])).toEqual({
      help: false,
      url: "ws://127.0.0.1:9001/ws",
      channels: ["orders.created", "orders.status"],
      token: "T",
    });
    expect(parseWatchArgs(["wss://edge.example/ws", "--token=T2", "orders.status"])).toMatchObject({
      token: "T2",
      channels: ["orders.status"],
    });
  });

  it("answers --help anywhere on the line", () => {
    expect(parseWatchArgs(["--help"])).toEqual({ help: true });
    expect(parseWatchArgs(["ws://x/ws", "-h"])).toEqual({ help: true });
    expect(WATCH_USAGE).toMatch(/exit codes: 0 .*1 .*2 bad arguments/s);
  });

  it("refuses a missing URL or channel, an unknown option and a --token without value", () => {
    for (const argv of [
      [],
      ["orders.status"],
      ["http://x/ws", "orders.status"],
      ["ws://x/ws"],
      ["ws://x/ws", "c", "--tok"],
      ["ws://x/ws", "c", "--token"],
    ]) {
      expect(() => parseWatchArgs(argv), argv.join(" ")).toThrow(WatchUsageError);
    }
  });
});
