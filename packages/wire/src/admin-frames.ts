import type { RequestId } from "./request-id.js";

/**
 * The admin frames of protocol v1: the cluster's nodes, one user's sockets across every edge, and
 * disconnecting that user. Only a socket whose token carries `"admin": true` may send them; any
 * other socket gets an `error` `forbidden` and no data.
 */
export const ADMIN_CLIENT_FRAME_TYPES = ["admin.nodes", "admin.user_sockets", "admin.disconnect"] as const;

/** The replies to {@link ADMIN_CLIENT_FRAME_TYPES}, in the same order. */
export const ADMIN_SERVER_FRAME_TYPES = ["admin.nodes.result", "admin.user_sockets.result", "admin.disconnect.result"] as const;

/** The longest `user` an admin frame may name (any token `sub`, not only channel-safe ones). */
export const MAX_ADMIN_USER_LENGTH = 256;

/** The services that register in the node registry. */
export const NODE_SERVICES = ["edge", "order-api", "processor"] as const;
/** A service of the node registry. */
export type NodeService = (typeof NODE_SERVICES)[number];

/** One live process of the cluster, as its heartbeat last wrote it. */
export interface NodeInfo {
  service: NodeService;
  /** The node's name (the edge's NODE_ID; `<host>:<pid>` for the others). */
  node: string;
  host: string;
  pid: number;
  /** The orderstream version and git commit it was built from (`--version`). */
  version: string;
  commit: string;
  /** Epoch ms: when it started, and when its heartbeat last wrote this. */
  started_at: number;
  seen_at: number;
  /** The service's figures: edge `sockets`, `channels`; processor `waiting`, `active`, `delayed`; order-api `orders_created`, `subscribers`. */
  stats: Record<string, number>;
}

/** One open socket on some edge. */
export interface SocketInfo {
  /** The socket's id on its node. */
  id: number;
  node: string;
  user: string;
  channels: string[];
  /** Epoch ms of the upgrade. */
  connected_at: number;
  remote_address: string;
}

/** `admin.nodes`: the node registry. Answered `admin.nodes.result`. */
export interface AdminNodesFrame {
  type: "admin.nodes";
  id?: RequestId;
}
/** `admin.user_sockets`: every socket of `user` on every edge. Answered `admin.user_sockets.result`. */
export interface AdminUserSocketsFrame {
  type: "admin.user_sockets";
  user: string;
  id?: RequestId;
}
/** `admin.disconnect`: closes every socket of `user` on every edge (close 4009). Answered `admin.disconnect.result`. */
export interface AdminDisconnectFrame {
  type: "admin.disconnect";
  user: string;
  id?: RequestId;
}
/** `admin.nodes.result`: every live node, edges first. */
export interface AdminNodesResultFrame {
  type: "admin.nodes.result";
  nodes: NodeInfo[];
  id?: RequestId;
}
/** `admin.user_sockets.result`: the user's sockets; `edges` = how many edge nodes answered. */
export interface AdminUserSocketsResultFrame {
  type: "admin.user_sockets.result";
  user: string;
  sockets: SocketInfo[];
  edges: number;
  id?: RequestId;
}
/** `admin.disconnect.result`: how many sockets were closed, on how many answering edges. */
export interface AdminDisconnectResultFrame {
  type: "admin.disconnect.result";
  user: string;
  disconnected: number;
  edges: number;
  id?: RequestId;
}

const withId = <T extends object>(frame: T, id: RequestId | undefined): T => (id === undefined ? frame : { ...frame, id });

/** The `admin.nodes.result` reply text. */
export function adminNodesResultFrame(nodes: NodeInfo[], id?: RequestId): string {
  const f: AdminNodesResultFrame = { type: "admin.nodes.result", nodes };
  return JSON.stringify(withId(f, id));
}

/** The `admin.user_sockets.result` reply text. */
export function adminUserSocketsResultFrame(user: string, sockets: SocketInfo[], edges: number, id?: RequestId): string {
  const f: AdminUserSocketsResultFrame = { type: "admin.user_sockets.result", user, sockets, edges };
  return JSON.stringify(withId(f, id));
}

/** The `admin.disconnect.result` reply text. */
export function adminDisconnectResultFrame(user: string, disconnected: number, edges: number, id?: RequestId): string {
  const f: AdminDisconnectResultFrame = { type: "admin.disconnect.result", user, disconnected, edges };
  return JSON.stringify(withId(f, id));
}

/** An admin request frame's text (`user` for `admin.user_sockets` and `admin.disconnect`). */
export function adminFrame(type: (typeof ADMIN_CLIENT_FRAME_TYPES)[number], user?: string, id?: RequestId): string {
  return JSON.stringify(withId(user === undefined ? { type } : { type, user }, id));
}
