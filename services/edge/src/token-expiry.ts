import { CLOSE_CODE_TABLE } from "@orderstream/wire";
import type { EdgeSocket } from "./socket-state.js";

/**
 * Closes every socket whose token has expired at `nowMs` (jose's rule: expired once `exp` <= the
 * current epoch second) with 4005 "token expired", so its client gets a new token and reconnects.
 * Run by the node's periodic sweep: no timer and no field per socket, the expiry is read from the
 * socket's shared principal. Returns how many sockets it closed.
 */
export function closeExpired(sockets: Iterable<EdgeSocket>, nowMs: number): number {
  const nowS = Math.floor(nowMs / 1000);
  const c = CLOSE_CODE_TABLE.tokenExpired;
  let closed = 0;
  for (const ws of sockets) {
    const st = ws.getUserData();
    const exp = st.who.exp;
    if (exp === undefined || exp > nowS || st.closed) continue;
    ws.end(c.code, c.reason);
    closed++;
  }
  return closed;
}
