import { readFileSync, readdirSync } from "node:fs";
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";

/** One reading of one process: resident memory and open descriptors, from /proc. */
export interface ProcessSample {
  /** Seconds since the soak started. */
  t: number;
  pid: number;
  rssMB: number;
  fds: number;
}

/** One reading of the load process's event-loop delay over the last interval, in ms. */
export interface LoopSample {
  t: number;
  p99Ms: number;
  maxMs: number;
}

/** first / last / max of one process slot's samples, and whether it grew without bound. */
export interface SlotSummary {
  slot: string;
  samples: number;
  pids: number[];
  rssMB: { first: number; last: number; max: number };
  fds: { first: number; last: number; max: number };
  /** The sample growth is judged from: ≥ `baselineS` into the life of the last pid (undefined: too young). */
  baseline: ProcessSample | undefined;
  growth: string | undefined;
}

/** What counts as unbounded growth between the baseline sample and the last one. */
export interface GrowthLimits {
  baselineS: number;
  rssFactor: number;
  rssSlackMB: number;
  fdSlack: number;
  /** Slots whose RSS is not judged (redis: the soak keeps every event's history as the ground truth). */
  rssExempt: string[];
}

/** RSS (VmRSS) in MB and the number of entries in /proc/<pid>/fd; undefined once the process is gone. */
export function readProcess(pid: number): { rssMB: number; fds: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? "NaN");
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    return Number.isFinite(kb) ? { rssMB: Math.round(kb / 102.4) / 10, fds } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Samples every process of a soak by slot ("edge-0", "redis", …): a slot keeps its name when its
 * process is restarted (a new pid), so a restart shows up as a drop, not as a new row. Also samples
 * this (the load) process's event-loop delay.
 */
export class SoakSampler {
  readonly slots = new Map<string, ProcessSample[]>();
  readonly loop: LoopSample[] = [];
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor(private readonly started: number) {
    this.lag.enable();
  }

  /** Takes one sample of every slot's current pid and of the event-loop delay. */
  sample(pids: Record<string, number>): void {
    const t = Math.round((Date.now() - this.started) / 100) / 10;
    for (const [slot, pid] of Object.entries(pids)) {
      const r = readProcess(pid);
      if (!r) continue;
      const list = this.slots.get(slot) ?? [];
      list.push({ t, pid, ...r });
      this.slots.set(slot, list);
    }
    const round = (ns: number): number => Math.round(ns / 1e5) / 10;
    this.loop.push({
      t,
      p99Ms: this.lag.count > 0 ? round(this.lag.percentile(99)) : 0,
      maxMs: this.lag.count > 0 ? round(this.lag.max) : 0,
    });
    this.lag.reset();
  }

  stop(): void {
    this.lag.disable();
  }

  /** first / last / max per slot, with the growth verdict of {@link GrowthLimits}. */
  summary(limits: GrowthLimits): SlotSummary[] {
    return [...this.slots].map(([slot, s]) => {
      const first = s[0] as ProcessSample;
      const last = s[s.length - 1] as ProcessSample;
      const life = s.filter((x) => x.pid === last.pid);
      const born = (life[0] as ProcessSample).t;
      const baseline = life.find((x) => x.t - born >= limits.baselineS && x !== last);
      let growth: string | undefined;
      if (baseline) {
        const rssLimit = baseline.rssMB * limits.rssFactor + limits.rssSlackMB;
        if (last.rssMB > rssLimit && !limits.rssExempt.includes(slot))
          growth = `RSS ${baseline.rssMB} MB at ${baseline.t} s → ${last.rssMB} MB at ${last.t} s (limit ${rssLimit.toFixed(1)})`;
        else if (last.fds > baseline.fds + limits.fdSlack)
          growth = `fds ${baseline.fds} at ${baseline.t} s → ${last.fds} at ${last.t} s (limit +${limits.fdSlack})`;
      }
      return {
        slot,
        samples: s.length,
        pids: [...new Set(s.map((x) => x.pid))],
        rssMB: { first: first.rssMB, last: last.rssMB, max: Math.max(...s.map((x) => x.rssMB)) },
        fds: { first: first.fds, last: last.fds, max: Math.max(...s.map((x) => x.fds)) },
        baseline,
        growth,
      };
    });
  }
}
