import { isIP } from "node:net";

/** True for localhost, 127.0.0.0/8, ::1 and ::ffff:127.x addresses. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || h.startsWith("::ffff:127.");
  return false;
}

/** The host part of a `host:port` gRPC address. */
export function grpcHost(address: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (m?.[1]) return m[1];
  const i = address.lastIndexOf(":");
  return i > 0 ? address.slice(0, i) : address;
}

/** Validates a WebSocket URL (ws:// or wss://); throws a message naming the bad value. */
export function parseWsUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`invalid WebSocket URL "${url}"`);
  }
  if (u.protocol !== "ws:" && u.protocol !== "wss:") throw new Error(`WebSocket URL must start with ws:// or wss://: "${url}"`);
  return u;
}

/** Hosts among `urls` and `grpc` that are not loopback. */
export function remoteTargets(urls: string[], grpc: string | undefined): string[] {
  const out: string[] = [];
  for (const url of urls) {
    const host = parseWsUrl(url).hostname;
    if (!isLoopbackHost(host)) out.push(url);
  }
  if (grpc !== undefined && !isLoopbackHost(grpcHost(grpc))) out.push(`grpc://${grpc}`);
  return out;
}

/** A URL with `?token=` set (or left untouched without a token). */
export function withToken(url: string, token: string | undefined): string {
  if (token === undefined) return url;
  const u = new URL(url);
  u.searchParams.set("token", token);
  return u.toString();
}

/** First explicit source port; explicit ports stay below the kernel's ephemeral range (32768+). */
export const LOCAL_PORT_BASE = 1024;
/** Largest sockets-per-address that keeps explicit ports below the ephemeral range. */
export const MAX_SOCKETS_PER_ADDRESS = 31_000;

/** Where socket `index` connects from; empty = the kernel's choice. */
export interface SourceEndpoint {
  localAddress?: string;
  localPort?: number;
}

/**
 * Source endpoint of socket `index`: block `index / perAddress` picks the address (null = the
 * kernel's choice), and a bound address gets an explicit port. bind() to port 0 makes the kernel
 * scan its port table on every call, which stalls the event loop at tens of thousands of sockets;
 * an explicit port is one lookup.
 */
export function sourceFor(index: number, addresses: (string | null)[], perAddress: number): SourceEndpoint {
  if (addresses.length === 0) return {};
  const addr = addresses[Math.floor(index / perAddress) % addresses.length];
  if (addr === null || addr === undefined) return {};
  return { localAddress: addr, localPort: LOCAL_PORT_BASE + (index % perAddress) };
}

/**
 * Source addresses for `sockets` connections to `urls`: an explicit list as given; "auto"
 * keeps the kernel's choice for the first `perAddress` sockets and uses 127.0.0.2, 127.0.0.3, …
 * for the next blocks, only when every target is IPv4 loopback.
 */
export function planSourceAddresses(
  setting: string[] | "auto",
  urls: string[],
  sockets: number,
  perAddress: number,
): (string | null)[] {
  if (setting !== "auto") return setting;
  if (sockets <= perAddress) return [];
  const allV4Loopback = urls.every((u) => {
    const h = parseWsUrl(u).hostname;
    return h === "localhost" || (isIP(h) === 4 && h.startsWith("127."));
  });
  if (!allV4Loopback) return [];
  const n = Math.min(254, Math.ceil(sockets / perAddress));
  return Array.from({ length: n }, (_, i) => (i === 0 ? null : `127.0.0.${i + 1}`));
}
