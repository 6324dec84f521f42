import { type ChildProcess, spawn } from "node:child_process";

/** A service started as a real child process (`node <entry>`), with its output kept for asserts. */
export interface ServiceProcess {
  proc: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves when a line of output matches, rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends a signal and waits for the exit (SIGKILL after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Spawns `node entry` with `env` added to the current environment. */
export function startService(entry: string, env: Record<string, string>, name = entry): ServiceProcess {
  return startCommand(process.execPath, [entry], env, name);
}

/** Spawns any program (haproxy, dockerd, ...) with `env` added, with the same handle as startService. */
export function startCommand(cmd: string, args: string[], env: Record<string, string> = {}, name = cmd): ServiceProcess {
  const proc = spawn(cmd, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onData = (chunk: Buffer): void => {
    out += chunk.toString();
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
    for (const w of [...waiters]) {
      const m = w.re.exec(out);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m[0]);
      }
    }
  };
  proc.stdout?.on("data", onData);
  proc.stderr?.on("data", onData);
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return {
    proc,
    pid: proc.pid ?? -1,
    output: () => out,
    exited,
    waitFor(re, timeoutMs = 15_000) {
      const m = re.exec(out);
      if (m) return Promise.resolve(m[0]);
      return new Promise((resolve, reject) => {
        const w = { re, resolve: (l: string) => { clearTimeout(t); resolve(l); } };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`${name}: no output matching ${re} within ${timeoutMs} ms; output:\n${out.slice(-4000)}`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    async stop(signal = "SIGTERM", timeoutMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
