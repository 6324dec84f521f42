import { type RequestId, adminDisconnectResultFrame, adminNodesResultFrame, adminUserSocketsResultFrame } from "@orderstream/wire";
import type { AdminService } from "./edge-admin.js";
import type { ClientMessage } from "./protocol.js";
import type { EdgeSocket } from "./socket-state.js";
import { type SubscriptionDeps, sendError } from "./subscriptions.js";

/** An admin frame, parsed. */
export type AdminMessage = Extract<ClientMessage, { type: "admin.nodes" | "admin.user_sockets" | "admin.disconnect" }>;

/** What the admin frames need from the node. */
export interface AdminDeps extends Pick<SubscriptionDeps, "metrics" | "out" | "log"> {
  admin: AdminService;
}

/**
 * An `admin.*` frame: only a socket whose token says `"admin": true` gets an answer; any other
 * (anonymous or a plain user) gets `error` `forbidden` and nothing of the data. Redis down (the
 * registry or the control channel unreachable) answers `unavailable`.
 */
export function handleAdmin(ws: EdgeSocket, deps: AdminDeps, msg: AdminMessage): void {
  const st = ws.getUserData();
  if (!st.who.admin) {
    sendError(ws, deps, "forbidden", `${msg.type} needs a token with "admin": true`, msg.id);
    return;
  }
  answer(deps, msg).then(
    (text) => {
      if (!st.closed) deps.out.send(ws, text);
    },
    (err: unknown) => {
      deps.log.warn({ err, socket: st.id, frame: msg.type }, "admin request failed");
      if (!st.closed) sendError(ws, deps, "unavailable", "the cluster's registry cannot be reached now; retry", msg.id);
    },
  );
}

async function answer(deps: AdminDeps, msg: AdminMessage): Promise<string> {
  const id: RequestId | undefined = msg.id;
  switch (msg.type) {
    case "admin.nodes":
      return adminNodesResultFrame(await deps.admin.nodes(), id);
    case "admin.user_sockets": {
      const r = await deps.admin.userSockets(msg.user);
      return adminUserSocketsResultFrame(msg.user, r.sockets, r.edges, id);
    }
    case "admin.disconnect": {
      const r = await deps.admin.disconnect(msg.user);
      deps.log.info({ user: msg.user, sockets: r.disconnected, edges: r.edges }, "admin disconnected a user");
      return adminDisconnectResultFrame(msg.user, r.disconnected, r.edges, id);
    }
  }
}
