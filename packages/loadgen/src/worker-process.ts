import type { FromWorker, ToWorker } from "./fleet-protocol.js";
import { SocketFleet } from "./socket-fleet.js";

const TICK_MS = 1000;

function send(msg: FromWorker, then?: () => void): void {
  process.send?.(msg, undefined, {}, () => then?.());
}

/**
 * The body of a forked worker: waits for its FleetSpec, runs the fleet, streams a stats delta
 * every second and a final one with the delivery report on stop, then exits.
 */
export function runWorkerProcess(): void {
  if (!process.send) {
    process.stderr.write("orderstream-load: --worker is internal (needs an IPC channel)\n");
    process.exit(2);
  }
  let fleet: SocketFleet | undefined;
  let ticker: NodeJS.Timeout | undefined;
  process.on("disconnect", () => process.exit(1));
  process.on("message", (raw: unknown) => {
    const msg = raw as ToWorker;
    try {
      if (msg.type === "start" && !fleet) {
        const f = new SocketFleet(msg.spec);
        fleet = f;
        f.start();
        ticker = setInterval(() => send({ type: "tick", delta: f.stats.takeDelta(), settled: f.settled }), TICK_MS);
      } else if (msg.type === "hold") {
        fleet?.hold();
      } else if (msg.type === "announce") {
        fleet?.announce(msg.orders);
      } else if (msg.type === "stop") {
        if (ticker) clearInterval(ticker);
        const f = fleet;
        if (!f) {
          process.exit(0);
        }
        void f.stop(msg.graceMs).then(
          (delivery) => {
            send({ type: "done", delta: f.stats.takeDelta(), delivery }, () => process.disconnect());
            f.stats.dispose();
          },
          (err: unknown) => {
            send({ type: "failed", message: String(err) }, () => process.disconnect());
          },
        );
      }
    } catch (err) {
      send({ type: "failed", message: err instanceof Error ? err.stack ?? err.message : String(err) });
    }
  });
}
