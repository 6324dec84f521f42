import type { ProgressUpdate } from "./types.js";

const fmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** One progress line: elapsed, phase, sockets open, msgs/s, req/s, p99, errors. */
export function formatProgress(p: ProgressUpdate): string {
  const parts = [`[${p.elapsedS.toFixed(0).padStart(4)}s] ${p.phase.padEnd(6)}`];
  if (p.targetSockets > 0) parts.push(`open ${fmt.format(p.open)}/${fmt.format(p.targetSockets)}`);
  parts.push(`msgs/s ${fmt.format(p.msgsPerS)}`);
  if (p.requestsPerS > 0) parts.push(`req/s ${fmt.format(p.requestsPerS)}`);
  parts.push(`p99 ${p.p99Ms === undefined ? "-" : `${p.p99Ms.toFixed(1)} ms`}`);
  parts.push(`errors ${fmt.format(p.errors)}`);
  if (p.clientLagMs >= 50) parts.push(`client lag ${fmt.format(p.clientLagMs)} ms`);
  return parts.join("  ");
}

/**
 * Shows progress on a stream: on a TTY one status line redrawn in place, otherwise a plain
 * line every `plainEveryS` seconds (logs stay readable).
 */
export class ProgressDisplay {
  private lastPlain = -Infinity;
  private drawn = false;

  constructor(private readonly out: NodeJS.WriteStream, private readonly plainEveryS = 1) {}

  update(p: ProgressUpdate): void {
    const line = formatProgress(p);
    if (this.out.isTTY) {
      const width = this.out.columns || 120;
      this.out.write(`\r\x1b[2K${line.slice(0, Math.max(20, width - 1))}`);
      this.drawn = true;
    } else if (p.elapsedS - this.lastPlain >= this.plainEveryS - 0.05) {
      this.lastPlain = p.elapsedS;
      this.out.write(`${line}\n`);
    }
  }

  /** Ends the redrawn line so later output starts on a fresh one. */
  finish(): void {
    if (this.drawn) this.out.write("\n");
    this.drawn = false;
  }
}
