import {
  ChannelFeed,
  Partitioning,
  RedisBroker,
  type RedisConnection,
  closeRedis,
  createRedis,
  isClusterUrl,
  readOrderOwner,
  ensureLayout,
  waitReady,
} from "@orderstream/bus";
import type { WebSocketBehavior, us_listen_socket } from "uWebSockets.js";

/** The paths a WebSocket upgrade is accepted on. */
const WS_PATHS = ["/ws", "/orders"] as const;
import { TokenVerifier } from "./auth.js";
import { ConnectDeadlines } from "./connect-handler.js";
import { EdgeAdmin } from "./edge-admin.js";
import { BackpressureGuard } from "./backpressure-guard.js";
import { CLOSE_CODE_TABLE } from "@orderstream/wire";
import type { EdgeConfig } from "./config.js";
import { uwsCompression } from "./compression.js";
import { closeSpread } from "./drain-schedule.js";
import { registerHttpRoutes } from "./http-routes.js";
import { type Logger, createLogger } from "./logger.js";
import { type MessageDeps, handleMessage } from "./message-handler.js";
import { EdgeMetrics } from "./metrics.js";
import { nativeUws, nativeUwsSource } from "./native-uws.js";
import { effectiveMaxConnections } from "./open-file-limit.js";
import { OrderActionClient } from "./order-action-client.js";
import { OrderActions } from "./order-actions.js";
import { outbound } from "./outbound.js";
import { AUTH, type SocketState, newSocketState } from "./socket-state.js";
import { releaseAll } from "./subscriptions.js";
import { RateLimit } from "./rate-limiter.js";
import { TokenExpiries } from "./token-expiry.js";
import { upgradeHandler } from "./upgrade-handler.js";

/** A running edge node. */
export interface EdgeNode {
  /** The port it listens on (useful with EDGE_PORT=0). */
  port: number;
  metrics: EdgeMetrics;
  /** Open sockets. */
  connections(): number;
  /** Readiness: Redis connected and not draining. */
  isReady(): boolean;
  /** Readiness false, upgrades refused, sockets closed with 1001 spread over DRAIN_WINDOW_MS. */
  drain(): Promise<void>;
  /** Closes everything left (sockets with 4503), the listen socket, gRPC and Redis. Idempotent. */
  stop(): Promise<void>;
}

const SWEEP_INTERVAL_MS = 250;
/** Every this many sweeps, sockets whose token expired are closed (4005): once a second. */
const EXPIRY_SWEEP_EVERY = 4;
/** uSockets' LIBUS_LISTEN_EXCLUSIVE_PORT listen option. */
const EXCLUSIVE_PORT = 1;
/** uSockets' LIBUS_LISTEN_DEFAULT: SO_REUSEPORT on Linux, so several processes share a port. */
const SHARED_PORT = 0;

/** Options of {@link startEdge} for a worker of an EDGE_WORKERS group. */
export interface StartEdgeOptions {
  /** Listen with SO_REUSEPORT, sharing the port with the group's other workers. */
  sharedPort?: boolean;
  /** Where `/metrics` comes from (a worker serves the whole group's, gathered by its supervisor). */
  metricsText?: () => Promise<string>;
  /**
   * Called when an outgoing frame breaks its JSON Schema (EDGE_VALIDATE_FRAMES only); default: log
   * it and exit with code 70, so a test run cannot miss it.
   */
  onFrameViolation?: (problem: string) => void;
}

/** Starts an edge node: Redis, the channel feed, the uWS app with `/ws` and the HTTP endpoints. */
export async function startEdge(
  config: EdgeConfig,
  log: Logger = createLogger(config.logLevel, config.nodeId),
  opts: StartEdgeOptions = {},
): Promise<EdgeNode> {
  const uWS = nativeUws();
  log.debug({ uws: nativeUwsSource(), node: process.version, abi: process.versions.modules }, "uWebSockets.js native build loaded");
  const metrics = new EdgeMetrics(config.nodeId);
  const onRedisError = (role: string) => (err: Error) => log.warn({ err: err.message, role }, "redis connection error");
  const cmd: RedisConnection = createRedis(config.redisUrl, { role: "command", name: `edge:${config.nodeId}:cmd`, onError: onRedisError("command") });
  const sub: RedisConnection = createRedis(config.redisUrl, { role: "subscriber", name: `edge:${config.nodeId}:sub`, onError: onRedisError("subscriber") });
  try {
    await Promise.all([waitReady(cmd), waitReady(sub)]);
    await ensureLayout(cmd, new Partitioning(config.partitions));
  } catch (err) {
    await Promise.all([closeRedis(cmd), closeRedis(sub)]);
    throw err;
  }
  const api = new OrderActionClient(config.orderApiUrl, log, {
    tls: config.orderApiTls,
    serviceTokenSecret: config.serviceTokenSecret,
    nodeId: config.nodeId,
  });
  const partitions = new Partitioning(config.partitions);
  const app = uWS.App();
  const state = { draining: false, stopped: false, pendingUpgrades: { n: 0 } };
  const maxConnections = effectiveMaxConnections(config.maxConnections);
  if (maxConnections < config.maxConnections)
    log.warn({ configured: config.maxConnections, effective: maxConnections }, "MAX_CONNECTIONS capped below the open-file limit (ulimit -n)");
  metrics.maxConnections.set(maxConnections);

  const guard = new BackpressureGuard(config.maxBackpressureBytes, metrics, log);
  const out = outbound(
    config.validateFrames,
    opts.onFrameViolation ??
      ((problem) => {
        log.fatal({ problem }, "an outgoing frame breaks the protocol's JSON Schema (EDGE_VALIDATE_FRAMES): exiting");
        process.exit(70);
      }),
    config.compression !== "off",
  );
  // The node's one subscription per channel: every frame is published once to the channel's uWS
  // topic, which fans it out in C++ to the node's sockets.
  const broker = new RedisBroker(sub, cmd, { sharded: isClusterUrl(config.redisUrl) });
  const feed = new ChannelFeed(
    broker,
    (channel, frame) => {
      const t0 = performance.now();
      metrics.eventsIn.inc();
      out.check(frame);
      // With compression on, uWS deflates the frame once per socket that negotiated it (the shared
      // compressor too: there is no compress-once publish in this uWS), the rest get it as it is.
      app.publish(channel, frame, false, out.compress);
      guard.afterPublish();
      metrics.fanoutSeconds.observe((performance.now() - t0) / 1000);
      metrics.messagesOut.inc(app.numSubscribers(channel));
    },
    { cacheSize: config.historySize, partitions, onError: (err, ctx) => log.warn({ err, ...ctx }, "channel feed error") },
  );
  metrics.trackHistoryReads(() => feed.historyReads);
  metrics.trackRedis(() => cmd.status === "ready" && sub.status === "ready");

  const verifier = new TokenVerifier(config.authKeys);
  // The admin frames: this node in the registry, and the edges' control channel (a user's sockets, disconnect).
  const admin = new EdgeAdmin({
    cmd,
    sub,
    sharded: isClusterUrl(config.redisUrl),
    nodeId: config.nodeId,
    log,
    sockets: () => guard.open(),
    stats: () => ({ sockets: guard.size, channels: feed.channelCount }),
  });
  const deps: MessageDeps = {
    verifier,
    feed,
    metrics,
    log,
    out,
    deadlines: new ConnectDeadlines(config.connectTimeoutMs),
    expiries: new TokenExpiries(),
    maxChannelsPerConn: config.maxChannelsPerConn,
    anonymousAllOrders: config.anonymousAllOrders,
    afterSend: guard.check,
    rate: new RateLimit(config.rateLimitPerS, config.rateLimitBurst),
    actions: new OrderActions((id) => readOrderOwner(cmd, partitions, id), api, log),
    admin,
  };
  const isReady = (): boolean => !state.draining && !state.stopped && cmd.status === "ready" && sub.status === "ready";

  const behavior: WebSocketBehavior<SocketState> = {
    maxPayloadLength: config.maxPayloadBytes,
    // EDGE_COMPRESSION: permessage-deflate, negotiated per socket (only clients that offer it get it).
    compression: uwsCompression(uWS, config.compression),
    // Our limit closes a socket with 4004 at MAX_BACKPRESSURE_BYTES; uWS's own cap (where it starts
    // dropping) sits above it so the close frame still fits in the send buffer.
    maxBackpressure: 2 * config.maxBackpressureBytes,
    closeOnBackpressureLimit: false,
    // uWS keeps time in 4-second steps: round up so the configured value is a minimum.
    idleTimeout: Math.ceil(config.idleTimeoutS / 4) * 4,
    sendPingsAutomatically: true,
    upgrade: upgradeHandler({
      verifier,
      metrics,
      log,
      refuse: () =>
        state.draining || state.stopped
          ? "draining"
          : guard.size + state.pendingUpgrades.n >= maxConnections
            ? "full"
            : undefined,
      pending: state.pendingUpgrades,
      allowedOrigins: config.allowedOrigins,
      anonymousAllOrders: config.anonymousAllOrders,
      newState: (who, auth) => newSocketState(who, auth, deps.rate),
    }),
    open: (ws) => {
      if (ws.getUserData().auth === AUTH.awaiting) deps.deadlines.add(ws, Date.now());
      deps.expiries.watch(ws);
      guard.add(ws);
      metrics.connections.set(guard.size);
    },
    message: (ws, data, isBinary) => {
      try {
        handleMessage(ws, deps, data, isBinary);
      } catch (err) {
        log.error({ err, socket: ws.getUserData().id }, "message handler failed");
        if (!ws.getUserData().closed) ws.end(CLOSE_CODE_TABLE.internalError.code, CLOSE_CODE_TABLE.internalError.reason);
      }
    },
    drain: guard.check,
    close: (ws) => {
      const st = ws.getUserData();
      st.closed = true;
      deps.deadlines.delete(ws);
      deps.expiries.forget(ws);
      guard.delete(ws);
      releaseAll(ws, deps);
      metrics.connections.set(guard.size);
    },
  };
  // `/ws` is the documented path; `/orders` is the one the origin article's browser client opens.
  for (const path of WS_PATHS) app.ws<SocketState>(path, behavior);
  registerHttpRoutes(app, {
    metrics,
    log,
    readiness: () => ({ redis: cmd.status === "ready" && sub.status === "ready", notDraining: !state.draining && !state.stopped }),
    ...(opts.metricsText ? { metricsText: opts.metricsText } : {}),
  });

  try {
    await admin.start();
  } catch (err) {
    api.close();
    await Promise.all([closeRedis(sub), closeRedis(cmd)]);
    throw err;
  }
  let listenSocket: us_listen_socket;
  try {
    // Exclusive: uWS's default SO_REUSEPORT would let a second node silently share a busy port.
    // Only the workers of one EDGE_WORKERS group share theirs, on purpose.
    const listen = app.listen as unknown as (h: string, p: number, o: number, cb: (t: us_listen_socket | false) => void) => void;
    listenSocket = await new Promise<us_listen_socket>((resolve, reject) =>
      listen.call(app, config.host, config.port, opts.sharedPort ? SHARED_PORT : EXCLUSIVE_PORT, (token) =>
        token ? resolve(token) : reject(new Error(`cannot listen on ${config.host}:${config.port} (port in use?)`)),
      ),
    );
  } catch (err) {
    api.close();
    await admin.stop().catch(() => undefined);
    await Promise.all([closeRedis(sub), closeRedis(cmd)]);
    throw err;
  }
  const port = uWS.us_socket_local_port(listenSocket as never);
  let listening = true;
  const closeListener = (): void => {
    if (listening) uWS.us_listen_socket_close(listenSocket);
    listening = false;
  };
  let sweeps = 0;
  const sweep = setInterval(() => {
    guard.sweep();
    if (deps.deadlines.size > 0) deps.deadlines.sweep(Date.now(), deps);
    if (++sweeps % EXPIRY_SWEEP_EVERY === 0 && !state.stopped) {
      const expired = deps.expiries.closeDue(Date.now());
      if (expired > 0) {
        metrics.errors.inc({ code: "token_expired" }, expired);
        log.debug({ sockets: expired }, "closed sockets whose token expired");
      }
    }
    metrics.channels.set(feed.channelCount);
  }, SWEEP_INTERVAL_MS);

  let drainPromise: Promise<void> | undefined;
  let cancelDrain: () => void = () => undefined;
  const drain = (): Promise<void> => {
    if (drainPromise) return drainPromise;
    state.draining = true;
    log.info({ sockets: guard.size, windowMs: config.drainWindowMs }, "draining");
    // A worker of an EDGE_WORKERS group stops listening at once: while its listener stays open
    // the kernel keeps hashing new connections to it (answered 503); closed, they go to siblings.
    if (opts.sharedPort) closeListener();
    const plan = closeSpread(guard.all(), config.drainWindowMs, (ws) => {
      if (!ws.getUserData().closed) ws.end(CLOSE_CODE_TABLE.goingAway.code, CLOSE_CODE_TABLE.goingAway.reason);
    });
    cancelDrain = plan.cancel;
    drainPromise = plan.done.then(() => log.info("drained"));
    return drainPromise;
  };

  let stopPromise: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopPromise ??= (async () => {
      state.draining = true;
      state.stopped = true;
      cancelDrain();
      clearInterval(sweep);
      const c = CLOSE_CODE_TABLE.shuttingDown;
      for (const ws of guard.all()) {
        try {
          if (!ws.getUserData().closed) ws.end(c.code, c.reason);
        } catch (err) {
          log.warn({ err }, "closing a socket failed");
        }
      }
      closeListener();
      feed.releaseAll();
      api.close();
      try {
        await admin.stop();
      } catch (err) {
        log.warn({ err }, "leaving the node registry failed");
      }
      await Promise.all([closeRedis(sub), closeRedis(cmd)]);
      log.info("stopped");
    })();
    return stopPromise;
  };

  log.info({ port, nodeId: config.nodeId, compression: config.compression }, "listening");
  return { port, metrics, connections: () => guard.size, isReady, drain, stop };
}
