import { CLOSE_CODE_TABLE } from "@orderstream/wire";
import type { Principal } from "./auth.js";
import type { EdgeSocket } from "./socket-state.js";

/**
 * The sockets whose token carries an `exp`, by that second, so the node's once-a-second check
 * touches only the sockets that are due instead of every socket (an idle node of a million sockets
 * would otherwise walk all of them every second). A socket is watched while its principal holds;
 * the close handler and a `refresh` forget it first.
 */
export class TokenExpiries {
  private readonly due = new Map<number, Set<EdgeSocket>>();

  /** Starts watching the socket's current principal (nothing without `exp`). */
  watch(ws: EdgeSocket): void {
    const exp = ws.getUserData().who.exp;
    if (exp === undefined) return;
    let set = this.due.get(exp);
    if (!set) {
      set = new Set();
      this.due.set(exp, set);
    }
    set.add(ws);
  }

  /** Stops watching (the socket closed, or its principal is about to change). */
  forget(ws: EdgeSocket): void {
    const exp = ws.getUserData().who.exp;
    if (exp === undefined) return;
    const set = this.due.get(exp);
    if (set?.delete(ws) && set.size === 0) this.due.delete(exp);
  }

  /** Gives the socket a new principal (`connect`, `refresh`), watched by its own `exp`. */
  setWho(ws: EdgeSocket, who: Principal): void {
    this.forget(ws);
    ws.getUserData().who = who;
    this.watch(ws);
  }

  /**
   * Closes every watched socket whose token has expired at `nowMs` (jose's rule: expired once `exp`
   * <= the current epoch second) with 4005 "token expired", so its client gets a new token and
   * reconnects. Returns how many sockets it closed.
   */
  closeDue(nowMs: number): number {
    const nowS = Math.floor(nowMs / 1000);
    const c = CLOSE_CODE_TABLE.tokenExpired;
    let closed = 0;
    for (const [exp, set] of this.due) {
      if (exp > nowS) continue;
      this.due.delete(exp);
      for (const ws of set) {
        if (ws.getUserData().closed) continue;
        ws.end(c.code, c.reason);
        closed++;
      }
    }
    return closed;
  }
}
