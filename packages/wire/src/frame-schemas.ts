import { MAX_ADMIN_USER_LENGTH, NODE_SERVICES } from "./admin-frames.js";
import { MAX_CHANNEL_LENGTH, USER_ID_CHARS } from "./channels.js";
import { ACTION_ERROR_CODES, ERROR_CODES } from "./error-codes.js";
import { MAX_NOTE_LENGTH, ORDER_STATUS_NAMES } from "./event-frame.js";
import { type ClientFrameType, MAX_ORDER_ID_LENGTH, MAX_TOKEN_LENGTH, ORDER_ACTIONS, type ServerFrameType } from "./frames.js";
import { EMPTY_OFFSET, MAX_OFFSET_LENGTH, OFFSET_PATTERN_SOURCE } from "./offsets.js";
import { MAX_REQUEST_ID_LENGTH } from "./request-id.js";

/** A JSON Schema (draft 2020-12) as a plain object. */
export type JsonSchema = { readonly [key: string]: unknown };

const DRAFT = "https://json-schema.org/draft/2020-12/schema";
const id = {
  description: "request id, echoed on every reply",
  oneOf: [{ type: "number" }, { type: "string", maxLength: MAX_REQUEST_ID_LENGTH }],
};
const channel = {
  type: "string",
  maxLength: MAX_CHANNEL_LENGTH,
  pattern: `^(orders\\.created|orders\\.status|orders\\.user\\.${USER_ID_CHARS}+)$`,
};
const offset = { type: "string", maxLength: MAX_OFFSET_LENGTH, anyOf: [{ const: EMPTY_OFFSET }, { pattern: OFFSET_PATTERN_SOURCE }] };
const token = { type: "string", minLength: 1, maxLength: MAX_TOKEN_LENGTH, description: "a JWT (HS256, RS256 or ES256)" };
const channels = { type: "array", items: channel };
const nullableInt = { oneOf: [{ type: "integer" }, { type: "null" }] };

function frame(
  kind: "client" | "server",
  type: string,
  title: string,
  properties: Record<string, unknown>,
  required: string[],
  withId = true,
): JsonSchema {
  return {
    $schema: DRAFT,
    $id: `urn:orderstream:v1:${kind}:${type}`,
    title,
    type: "object",
    properties: { type: { const: type }, ...properties, ...(withId ? { id } : {}) },
    required: ["type", ...required],
    additionalProperties: false,
  };
}

/** The proto3 JSON form of an Order, as carried in `data` of event frames. */
export const ORDER_SCHEMA: JsonSchema = {
  type: "object",
  properties: {
    id: { type: "string", minLength: 1 },
    userId: { type: "string", minLength: 1 },
    items: {
      type: "array",
      items: {
        type: "object",
        properties: { productId: { type: "string" }, quantity: { type: "integer", minimum: 1 }, price: { type: "number", minimum: 0 } },
        required: ["productId", "quantity", "price"],
        additionalProperties: false,
      },
    },
    total: { type: "number", minimum: 0 },
    status: { enum: ORDER_STATUS_NAMES },
    createdAt: { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$" },
    statusReason: { type: "string", maxLength: 1000 },
    note: { type: "string", maxLength: MAX_NOTE_LENGTH },
  },
  required: ["id", "userId", "items", "total", "status", "createdAt"],
  additionalProperties: false,
};

const eventFrame = (type: "order.created" | "order.status", title: string): JsonSchema =>
  frame(
    "server",
    type,
    title,
    { channel, offset: { type: "string", maxLength: MAX_OFFSET_LENGTH, pattern: OFFSET_PATTERN_SOURCE }, data: ORDER_SCHEMA },
    ["channel", "offset", "data"],
    false,
  );

const adminUser = { type: "string", minLength: 1, maxLength: MAX_ADMIN_USER_LENGTH, description: "a user id (a token's sub)" };
const count = { type: "integer", minimum: 0 };
const epochMs = { type: "integer", minimum: 0, description: "epoch milliseconds" };
const NODE_SCHEMA = {
  type: "object",
  properties: {
    service: { enum: NODE_SERVICES },
    node: { type: "string", minLength: 1 },
    host: { type: "string" },
    pid: count,
    version: { type: "string" },
    commit: { type: "string" },
    started_at: epochMs,
    seen_at: epochMs,
    stats: { type: "object", additionalProperties: { type: "number" } },
  },
  required: ["service", "node", "host", "pid", "version", "commit", "started_at", "seen_at", "stats"],
  additionalProperties: false,
};
const SOCKET_SCHEMA = {
  type: "object",
  properties: {
    id: count,
    node: { type: "string", minLength: 1 },
    user: { type: "string" },
    channels,
    connected_at: epochMs,
    remote_address: { type: "string" },
  },
  required: ["id", "node", "user", "channels", "connected_at", "remote_address"],
  additionalProperties: false,
};

/** A JSON Schema for every frame a client sends, by type. */
export const CLIENT_FRAME_SCHEMAS: Record<ClientFrameType, JsonSchema> = {
  connect: frame("client", "connect", "connect: the token, as the first frame", { token }, ["token"]),
  subscribe: frame(
    "client",
    "subscribe",
    "subscribe: join channels, resuming those in since",
    { channels: { ...channels, minItems: 1 }, since: { type: "object", propertyNames: channel, additionalProperties: offset } },
    ["channels"],
  ),
  unsubscribe: frame("client", "unsubscribe", "unsubscribe: leave channels", { channels }, ["channels"]),
  process_order: frame(
    "client",
    "process_order",
    "process_order: apply an action to an order",
    {
      order_id: { type: "string", minLength: 1, maxLength: MAX_ORDER_ID_LENGTH },
      action: { enum: ORDER_ACTIONS },
      timestamp: { type: "number" },
    },
    ["order_id"],
  ),
  refresh: frame("client", "refresh", "refresh: a new token for the same sub on the open socket", { token }, ["token"]),
  "admin.nodes": frame("client", "admin.nodes", "admin.nodes: the cluster's live nodes (admins only)", {}, []),
  "admin.user_sockets": frame(
    "client",
    "admin.user_sockets",
    "admin.user_sockets: one user's sockets on every edge (admins only)",
    { user: adminUser },
    ["user"],
  ),
  "admin.disconnect": frame(
    "client",
    "admin.disconnect",
    "admin.disconnect: close every socket of one user on every edge with 4009 (admins only)",
    { user: adminUser },
    ["user"],
  ),
};

/** A JSON Schema for every frame the edge sends, by type. */
export const SERVER_FRAME_SCHEMAS: Record<ServerFrameType, JsonSchema> = {
  connected: frame(
    "server",
    "connected",
    "connected: the connect token verified",
    { user: { type: "string", minLength: 1 }, exp: nullableInt },
    ["user", "exp"],
  ),
  subscribed: frame(
    "server",
    "subscribed",
    "subscribed: every channel of the subscribe joined",
    { channels, recovered: { type: "boolean" }, offsets: { type: "object", propertyNames: channel, additionalProperties: offset } },
    ["channels", "recovered", "offsets"],
  ),
  unsubscribed: frame("server", "unsubscribed", "unsubscribed: the channels were left", { channels }, ["channels"]),
  "order.created": eventFrame("order.created", "order.created: an order was created"),
  "order.status": eventFrame("order.status", "order.status: an order's status changed"),
  "process_order.result": frame(
    "server",
    "process_order.result",
    "process_order.result: the outcome of a process_order",
    {
      order_id: { type: "string" },
      status: { enum: [...ORDER_STATUS_NAMES, ""] },
      error_code: { enum: Object.keys(ACTION_ERROR_CODES) },
      message: { type: "string" },
    },
    ["order_id", "status"],
  ),
  refreshed: frame("server", "refreshed", "refreshed: the socket's token was replaced", { exp: nullableInt }, ["exp"]),
  error: frame(
    "server",
    "error",
    "error: a frame was refused; the socket stays open",
    {
      error: {
        type: "object",
        properties: { code: { enum: Object.keys(ERROR_CODES) }, message: { type: "string" } },
        required: ["code", "message"],
        additionalProperties: false,
      },
    },
    ["error"],
  ),
  "admin.nodes.result": frame(
    "server",
    "admin.nodes.result",
    "admin.nodes.result: the node registry",
    { nodes: { type: "array", items: NODE_SCHEMA } },
    ["nodes"],
  ),
  "admin.user_sockets.result": frame(
    "server",
    "admin.user_sockets.result",
    "admin.user_sockets.result: the user's sockets on the edges that answered",
    { user: adminUser, sockets: { type: "array", items: SOCKET_SCHEMA }, edges: count },
    ["user", "sockets", "edges"],
  ),
  "admin.disconnect.result": frame(
    "server",
    "admin.disconnect.result",
    "admin.disconnect.result: how many sockets of the user were closed",
    { user: adminUser, disconnected: count, edges: count },
    ["user", "disconnected", "edges"],
  ),
};
