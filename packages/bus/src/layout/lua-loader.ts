import { readFileSync } from "node:fs";
import type { RedisConnection } from "../runtime/redis-connection.js";

/** The folder of the `.lua` files (`packages/bus/lua`, beside src/ and dist/). */
const LUA_DIR = new URL("../../lua/", import.meta.url);

const INCLUDE = /^--- @include "([\w/-]+)"$/gm;

/**
 * The text of `lua/<name>.lua` with its `--- @include "includes/x"` lines replaced by those
 * files (each at most once per script), as BullMQ assembles its commands.
 */
export function loadLua(name: string, seen = new Set<string>()): string {
  const text = readFileSync(new URL(`${name}.lua`, LUA_DIR), "utf8");
  return text.replace(INCLUDE, (_line, inc: string) => {
    if (seen.has(inc)) return "";
    seen.add(inc);
    return loadLua(inc, seen);
  });
}

const sources = new Map<string, string>();

/** A connection with script commands defined on it. */
export type ScriptConn<N extends string> = RedisConnection & Record<N, (...args: (string | number)[]) => Promise<unknown[]>>;

/**
 * Defines `commands` (command name → `lua/` file) on `conn` once; ioredis then runs each by
 * EVALSHA, loading it on a miss. A file named `<name>-<n>.lua` takes `n` keys; the others take
 * their key count as first argument.
 */
export function defineScripts<N extends string>(conn: RedisConnection, commands: Record<N, string>): ScriptConn<N> {
  const defined = conn as unknown as Record<string, unknown>;
  for (const [name, file] of Object.entries(commands) as [string, string][]) {
    if (typeof defined[name] === "function") continue;
    let lua = sources.get(file);
    if (lua === undefined) sources.set(file, (lua = loadLua(file)));
    const keys = /-(\d+)$/.exec(file)?.[1];
    conn.defineCommand(name, keys === undefined ? { lua } : { lua, numberOfKeys: Number(keys) });
  }
  return conn as ScriptConn<N>;
}
