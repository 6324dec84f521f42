/** Command line of `orderstream-watch`: parsed apart from the socket so it is unit-tested. */

/** `orderstream-watch --help`. */
export const WATCH_USAGE = `usage: orderstream-watch <ws://host:port/ws> <channel> [channel...] [--token <jwt>]

Prints the live events of channels, one JSON frame per line on stdout; the subscribed reply,
errors and the close go to stderr. Stops on Ctrl-C.

  --token <jwt>   sent as "authorization: Bearer <jwt>" on the upgrade
  --help          this text

exit codes: 0 stopped (Ctrl-C) or closed normally (1000), 1 connection refused, lost or closed
with another code, 2 bad arguments`;

/** Parsed `orderstream-watch` arguments. */
export type WatchArgs = { help: true } | { help: false; url: string; channels: string[]; token: string | undefined };

/** Bad `orderstream-watch` arguments (exit code 2). */
export class WatchUsageError extends Error {}

/** Parses argv (without node and script); throws {@link WatchUsageError} on bad arguments. */
export function parseWatchArgs(argv: readonly string[]): WatchArgs {
  const rest: string[] = [];
  let token: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--help" || a === "-h") return { help: true };
    if (a === "--token") {
      token = argv[++i];
      if (token === undefined) throw new WatchUsageError("--token needs a value");
    } else if (a.startsWith("--token=")) token = a.slice(8);
    else if (a.startsWith("-")) throw new WatchUsageError(`unknown option ${a}`);
    else rest.push(a);
  }
  const [url, ...channels] = rest;
  if (!url || !/^wss?:\/\//.test(url)) throw new WatchUsageError("the first argument must be a ws:// or wss:// URL");
  if (channels.length === 0) throw new WatchUsageError("name at least one channel");
  return { help: false, url, channels, token };
}
