import { createServer } from "node:net";

/**
 * Ports handed out here come from below Linux's ephemeral range (32768-60999): a port from inside
 * it can be taken, between the check and the service's bind, by the local end of any outbound
 * connection another test opens (the suite opens thousands), which made services fail with
 * EADDRINUSE at random.
 */
const LOW = 10_000;
const HIGH = 32_000;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host: "0.0.0.0", exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A TCP port outside the ephemeral range that was free on every interface a moment ago. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found in ${LOW}-${HIGH} after 200 tries`);
}
