import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { formatProgress, ProgressDisplay } from "./progress.js";
import type { ProgressUpdate } from "./types.js";

const update = (elapsedS: number): ProgressUpdate => ({
  elapsedS,
  phase: "create",
  open: 9800,
  targetSockets: 10000,
  msgsPerS: 45120,
  requestsPerS: 100,
  p99Ms: 3.21,
  errors: 2,
  clientLagMs: 120,
});

function capture(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const s = new PassThrough();
  let out = "";
  s.on("data", (c: Buffer) => (out += c.toString()));
  return { stream: Object.assign(s, { isTTY, columns: 200 }) as unknown as NodeJS.WriteStream, text: () => out };
}

describe("progress display", () => {
  it("shows sockets open, msgs/s, p99, errors and client lag on one line", () => {
    expect(formatProgress(update(12))).toBe(
      "[  12s] create  open 9,800/10,000  msgs/s 45,120  req/s 100  p99 3.2 ms  errors 2  client lag 120 ms",
    );
  });

  it("redraws one status line on a TTY and prints plain lines otherwise", () => {
    const tty = capture(true);
    const d = new ProgressDisplay(tty.stream);
    d.update(update(1));
    d.update(update(2));
    d.finish();
    expect(tty.text()).toMatch(/^\r\x1b\[2K\[ {3}1s\].*\r\x1b\[2K\[ {3}2s\].*\n$/);
    expect(tty.text().split("\n")).toHaveLength(2);

    const plain = capture(false);
    const p = new ProgressDisplay(plain.stream, 2);
    for (const t of [1, 2, 3, 4, 5]) p.update(update(t));
    p.finish();
    expect(plain.text().split("\n").filter(Boolean).map((l) => l.slice(0, 7))).toEqual(["[   1s]", "[   3s]", "[   5s]"]);
    expect(plain.text()).not.toContain("\r");
  });
});
