/** The load scenarios the tool runs. */
export const SCENARIOS = ["ws-subscribe", "grpc-create", "grpc-bulk", "grpc-subscribe", "e2e"] as const;

/** One of {@link SCENARIOS}. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** Everything a run needs; the CLI fills it from flags, library callers pass it to `runScenario`. */
export interface ScenarioOptions {
  scenario: ScenarioName;
  /** WebSocket endpoints (`ws://host:port/ws`); sockets are spread over them round-robin. */
  urls: string[];
  /** order-api gRPC address `host:port`. */
  grpc: string;
  /** Number of WebSocket connections (ws-subscribe, e2e). */
  sockets: number;
  /** Number of SubscribeOrders streams (grpc-subscribe). */
  streams: number;
  /** Channels of an "all orders" socket. */
  channels: string[];
  /** Fraction (0..1) of sockets that subscribe to one user's channel instead of `channels`. */
  userRatio: number;
  /** Size of the user-id pool (`lg-user-<n>`) used for user channels and created orders. */
  users: number;
  /** New connections per second during ramp-up. */
  rampPerS: number;
  /** Wall-clock bound of the measured phase, in seconds. */
  durationS: number;
  /** Orders per second (grpc-create open loop, e2e). */
  rate: number;
  /** Requests in flight (grpc-create closed loop when > 0; parallel streams for grpc-bulk). */
  concurrency: number;
  /** Orders per BulkCreateOrders stream. */
  batch: number;
  /** Upper bound on orders created (create scenarios) or events received (subscribe scenarios); 0 = none. */
  count: number;
  /** Seconds e2e waits after the last create for late deliveries. */
  settleS: number;
  /** Largest tolerated fraction of expected e2e deliveries that did not arrive. */
  maxLoss: number;
  /** A ready token sent as `?token=` (and as gRPC `authorization` metadata). */
  token?: string;
  /** HS256 secret: the tool signs an admin token and per-user tokens itself. */
  jwtSecret?: string;
  /** Worker processes for sockets; 0 = in this process; "auto" picks from the socket count. */
  workers: number | "auto";
  /** Source addresses for loopback targets, or "auto" (127.0.0.1, 127.0.0.2, … as needed). */
  localAddresses: string[] | "auto";
  /** Sockets per source address before the next one is used. */
  socketsPerAddress: number;
  /** Stop adding sockets when the machine's MemAvailable falls under this many MiB (0: never). */
  minAvailableMiB: number;
  /** Permit targets outside 127.0.0.0/8 and ::1. */
  allowRemote: boolean;
  /** This process's part of a run spread over several machines (`--index`/`--total`); absent = the whole run. */
  slice?: RunSlice;
  /** The run's id, the same in every slice (`--run-id`); a random one when absent. */
  runId?: string;
}

/** Slice `index` (0-based) of a run split into `total` contiguous parts (pods of an indexed Job). */
export interface RunSlice {
  index: number;
  total: number;
}

/** Which run a result belongs to and which of its slices it holds. */
export interface RunInfo {
  id: string;
  total: number;
  /** The slices this result holds: one for a pod's result, several for a merged one. */
  indexes: number[];
  /** What this slice ran (a pod's result only): its share of the whole run's figures. */
  share?: SliceShare;
}

/** The per-process figures of one slice, derived from the whole run's options. */
export interface SliceShare {
  /** First global socket index of the slice and its socket count. */
  socketStart: number;
  sockets: number;
  /** First global stream index (grpc-subscribe) and the stream count. */
  streamStart: number;
  streams: number;
  rate: number;
  rampPerS: number;
  concurrency: number;
  count: number;
}

/** What a merge needs beyond the summary: compressed base64 HDR histograms (µs), as workers send them. */
export interface RawHistograms {
  /** Whole-run histogram by kind (`delivery`, `connect`, `rpc`). */
  latency: Record<string, string>;
  /** Delivery histogram of each second of `throughput` (null = no samples that second). */
  deliveryPerSecond: (string | null)[];
}

/** One threshold checked against a result. */
export interface ThresholdOutcome {
  /** The threshold as written (`delivery.p99 < 500`). */
  expr: string;
  metric: string;
  /** The metric's value in this result; absent when the run did not measure it (then it fails). */
  value?: number;
  ok: boolean;
}

/** Latency percentiles of one histogram, in milliseconds. */
export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** One second of the run (t = seconds since start). */
export interface TimelinePoint {
  t: number;
  open: number;
  connects: number;
  connectErrors: number;
  messages: number;
  bytes: number;
  requests: number;
  errors: number;
  /** Delivery-latency percentiles of events received in this second (ms), when any. */
  p50?: number;
  p99?: number;
}

/** e2e delivery accounting: every (socket, order) pair that should have arrived. */
export interface DeliveryReport {
  expected: number;
  received: number;
  missing: number;
  duplicates: number;
  /** missing / expected (0 when nothing was expected). */
  lossRatio: number;
}

/** Totals of a run. */
export interface Counts {
  connects: number;
  connectErrors: number;
  /** Connect failures by reason (`ECONNREFUSED`, `http_401`, …). */
  connectErrorReasons: Record<string, number>;
  /** Closes not initiated by the tool, by close code. */
  closes: Record<string, number>;
  subscribed: number;
  messages: number;
  bytes: number;
  /** Error frames / stream errors by code. */
  errors: Record<string, number>;
  /** Successful RPCs (CreateOrder calls, bulk streams). */
  requests: number;
  /** Failed RPCs by gRPC status name. */
  requestErrors: Record<string, number>;
  ordersCreated: number;
  maxOpen: number;
}

/** The result of one run: what `--json` writes and `runScenario` returns. */
export interface ScenarioResult {
  scenario: ScenarioName;
  params: Record<string, unknown>;
  startedAt: string;
  durationMs: number;
  workers: number;
  /** False when a pass criterion failed (see `failures`). */
  ok: boolean;
  failures: string[];
  counts: Counts;
  /** Latency percentiles by kind: `delivery`, `connect`, `rpc` (only kinds with samples). */
  latency: Record<string, Percentiles>;
  /** Latency by percentile (for plots): kind → [[percentile, ms], …]. */
  latencyCurve: Record<string, [number, number][]>;
  throughput: TimelinePoint[];
  delivery?: DeliveryReport;
  /** Worst event-loop delay of the tool's processes while measuring (e2e ramp-up and the final stop excluded); high = client-bound. */
  client: { loopLagP99Ms: number; loopLagMaxMs: number };
  /** Caveats that do not fail the run (e.g. a saturated client). */
  warnings: string[];
  /** The run and slice(s) this result holds (absent in results of versions before 0.4). */
  run?: RunInfo;
  /** Histograms for `orderstream-load merge` (absent in results of versions before 0.4). */
  raw?: RawHistograms;
  /** Thresholds checked (`--thresholds`); a broken one is also listed in `failures`. */
  thresholds?: ThresholdOutcome[];
}

/** Live figures handed to a progress callback once per second. */
export interface ProgressUpdate {
  elapsedS: number;
  phase: string;
  open: number;
  targetSockets: number;
  msgsPerS: number;
  requestsPerS: number;
  p99Ms: number | undefined;
  errors: number;
  /** p99 event-loop delay of the tool's busiest process over the last second (ms). */
  clientLagMs: number;
}
