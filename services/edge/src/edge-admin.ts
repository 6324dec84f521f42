import { ControlChannel, NodeHeartbeat, type RedisConnection, listNodes } from "@orderstream/bus";
import { CLOSE_CODE_TABLE, type NodeInfo, type SocketInfo } from "@orderstream/wire";
import type { Logger } from "./logger.js";
import type { EdgeSocket } from "./socket-state.js";

/** What one edge answers to a `user_sockets` control request. */
type SocketsReply = { sockets: SocketInfo[] };
/** What one edge answers to a `disconnect` control request. */
type DisconnectReply = { disconnected: number };

/** What the admin frames ask of the cluster, answered across every edge. */
export interface AdminService {
  /** The node registry. */
  nodes(): Promise<NodeInfo[]>;
  /** Every socket of `user` on every edge, and how many edges answered. */
  userSockets(user: string): Promise<{ sockets: SocketInfo[]; edges: number }>;
  /** Closes every socket of `user` on every edge (4009); how many, on how many edges. */
  disconnect(user: string): Promise<{ disconnected: number; edges: number }>;
}

/** What {@link EdgeAdmin} needs from the node. */
export interface EdgeAdminDeps {
  cmd: RedisConnection;
  sub: RedisConnection;
  sharded: boolean;
  nodeId: string;
  log: Logger;
  /** The node's open sockets, live. */
  sockets: () => Iterable<EdgeSocket>;
  /** The node's figures for the registry. */
  stats: () => { sockets: number; channels: number };
}

function remoteAddress(ws: EdgeSocket): string {
  try {
    return Buffer.from(ws.getRemoteAddressAsText()).toString();
  } catch {
    return "";
  }
}

/**
 * The edge's part in the admin frames: it heartbeats into the node registry, answers the other
 * edges' control requests about its own sockets (list a user's, close a user's with 4009), and
 * asks every edge (itself included) when an admin socket sends `admin.user_sockets` or
 * `admin.disconnect`. Sockets are found by a scan over the node's open sockets: no per-user index
 * to keep up on the hot path for a rare admin action.
 */
export class EdgeAdmin implements AdminService {
  private readonly heartbeat: NodeHeartbeat;
  private readonly control: ControlChannel;

  constructor(private readonly deps: EdgeAdminDeps) {
    this.heartbeat = new NodeHeartbeat(deps.cmd, {
      service: "edge",
      node: deps.nodeId,
      stats: deps.stats,
      onError: (err) => deps.log.warn({ err }, "node registry heartbeat failed"),
    });
    this.control = new ControlChannel(deps.sub, deps.cmd, {
      sharded: deps.sharded,
      onError: (err, what) => deps.log.warn({ err }, what),
    });
  }

  /** Joins the registry and the control channel. */
  async start(): Promise<void> {
    await this.control.start((kind, args) => this.answer(kind, args));
    this.heartbeat.start();
  }

  /** Leaves both (the registry entry is removed at once). */
  async stop(): Promise<void> {
    await Promise.all([this.heartbeat.stop(), this.control.stop()]);
  }

  nodes(): Promise<NodeInfo[]> {
    return listNodes(this.deps.cmd);
  }

  async userSockets(user: string): Promise<{ sockets: SocketInfo[]; edges: number }> {
    const out = await this.control.request<SocketsReply>("user_sockets", { user });
    const sockets = out.replies.flatMap((r) => r?.sockets ?? []).sort((a, b) => a.connected_at - b.connected_at);
    return { sockets, edges: out.replies.length };
  }

  async disconnect(user: string): Promise<{ disconnected: number; edges: number }> {
    const out = await this.control.request<DisconnectReply>("disconnect", { user });
    return { disconnected: out.replies.reduce((n, r) => n + (r?.disconnected ?? 0), 0), edges: out.replies.length };
  }

  /** This node's answer to a control request from any edge. */
  private answer(kind: string, args: Record<string, unknown>): SocketsReply | DisconnectReply | null {
    const user = typeof args["user"] === "string" ? args["user"] : undefined;
    if (user === undefined) return null;
    if (kind === "user_sockets") return { sockets: this.localSockets(user) };
    if (kind === "disconnect") return { disconnected: this.closeLocal(user) };
    return null;
  }

  private localSockets(user: string): SocketInfo[] {
    const out: SocketInfo[] = [];
    for (const ws of this.deps.sockets()) {
      const st = ws.getUserData();
      if (st.closed || st.who.userId !== user) continue;
      out.push({
        id: st.id,
        node: this.deps.nodeId,
        user,
        channels: [...st.joined],
        connected_at: st.openedAt,
        remote_address: remoteAddress(ws),
      });
    }
    return out;
  }

  private closeLocal(user: string): number {
    const c = CLOSE_CODE_TABLE.disconnectedByAdmin;
    const victims = [...this.deps.sockets()].filter((ws) => !ws.getUserData().closed && ws.getUserData().who.userId === user);
    for (const ws of victims) ws.end(c.code, c.reason);
    if (victims.length > 0) this.deps.log.info({ user, sockets: victims.length }, "sockets disconnected by admin");
    return victims.length;
  }
}
