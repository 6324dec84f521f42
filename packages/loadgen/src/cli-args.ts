import { parseArgs } from "node:util";
import { sliceProblem } from "./slice.js";
import { MAX_SOCKETS_PER_ADDRESS, parseWsUrl } from "./target.js";
import { type RunSlice, SCENARIOS, type ScenarioName, type ScenarioOptions } from "./types.js";

/** A bad command line: the CLI prints the message and usage, then exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The command-line help text. */
export const USAGE = `usage: orderstream-load <scenario> [options]
       orderstream-load merge <result> [<result> ...] [--json f] [--html f] [--thresholds f]

scenarios:
  ws-subscribe    N WebSocket subscribers (all-orders and per-user channels); connect time,
                  messages, publish-to-receive latency (receive time - data.createdAt)
  grpc-create     unary CreateOrder at --rate per second (or --concurrency in flight)
  grpc-bulk       BulkCreateOrders streams of --batch orders, --concurrency in parallel
  grpc-subscribe  --streams SubscribeOrders server streams
  e2e             create orders at --rate while --sockets listen; create-to-socket latency and
                  a delivery check (exit 1 when loss > --max-loss)

target:
  --url <ws-url>[,...]      edge endpoints, sockets spread round-robin (ws://127.0.0.1:9001/ws)
  --grpc <host:port>        order-api (127.0.0.1:50051)
  --token <jwt>             token sent in the connect frame (and gRPC authorization)
  --jwt-secret <secret>     sign tokens here: admin for all-orders sockets, sub=<user> for user ones
  --allow-remote            permit a non-loopback target (prints what it will send first)
load:
  --sockets <n>             WebSocket connections (100)
  --streams <n>             SubscribeOrders streams (10)
  --channels <a,b>          channels of all-orders sockets (orders.created,orders.status)
  --user-ratio <0..1>       share of sockets on a per-user channel orders.user.lg-user-<n> (0.5)
  --users <n>               user pool size for user channels and created orders (100)
  --ramp <n>                new connections per second (1000)
  --duration <s>            run length in seconds (10; e2e: create phase, after ramp-up)
  --rate <n>                orders per second (100 for grpc-create/e2e; 0 = none for subscribe scenarios)
  --concurrency <n>         closed loop: requests in flight (grpc-create, e2e: 0 = use --rate; grpc-bulk: 1)
  --batch <n>               orders per bulk stream (100)
  --count <n>               stop after n orders created / n events received (0 = no bound)
  --settle <s>              e2e: wait for late deliveries after the last create (3; longer while events still arrive)
  --max-loss <0..1>         e2e: tolerated fraction of missing deliveries (0)
scale:
  --workers <n|auto>        worker processes for sockets (auto: in-process up to 2000 sockets)
  --local-addresses <a,b|auto>  source addresses for sockets (auto: 127.0.0.2, … past the first block)
  --sockets-per-address <n> sockets per source address (25000, at most 31000)
  --min-available-mib <n>   stop adding sockets when MemAvailable falls under n MiB (2048; 0: never)
past one machine (each process runs its slice; figures above are the whole run's):
  --index <i>               this slice, 0..total-1 (default: $JOB_COMPLETION_INDEX of an indexed Job)
  --total <n>               number of slices (default: $LOAD_TOTAL_PODS, else 1)
  --run-id <id>             the run's id, the same in every slice; required with --total > 1
                            (default: $LOAD_RUN_ID); \`merge\` refuses results of different runs
output:
  --json <file|->           write the result as JSON, histograms included (- = one line on stdout,
                            the summary then goes to stderr)
  --html <file>             write a self-contained HTML report
  --thresholds <file>       lines like "delivery.p99 < 500", "loss <= 0": exit 1 when one breaks
                            (metrics: packages/loadgen/README.md, Thresholds)
  --quiet                   no progress display
  --help                    this text

exit codes: 0 ok, 1 run failed its checks (or a threshold) or could not run, 2 bad arguments (or thresholds file)`;

/** Parsed command line. */
export interface CliArgs {
  help: boolean;
  options: ScenarioOptions;
  json?: string;
  html?: string;
  thresholds?: string;
  quiet: boolean;
}

const FLAGS = {
  scenario: { type: "string" },
  url: { type: "string", multiple: true },
  grpc: { type: "string" },
  token: { type: "string" },
  "jwt-secret": { type: "string" },
  "allow-remote": { type: "boolean" },
  sockets: { type: "string" },
  streams: { type: "string" },
  channels: { type: "string" },
  "user-ratio": { type: "string" },
  users: { type: "string" },
  ramp: { type: "string" },
  duration: { type: "string" },
  rate: { type: "string" },
  concurrency: { type: "string" },
  batch: { type: "string" },
  count: { type: "string" },
  settle: { type: "string" },
  "max-loss": { type: "string" },
  workers: { type: "string" },
  "local-addresses": { type: "string" },
  "sockets-per-address": { type: "string" },
  "min-available-mib": { type: "string" },
  index: { type: "string" },
  total: { type: "string" },
  "run-id": { type: "string" },
  thresholds: { type: "string" },
  json: { type: "string" },
  html: { type: "string" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function num(name: string, raw: string | undefined, def: number, min: number, max: number, integer: boolean): number {
  if (raw === undefined) return def;
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    const kind = integer ? "an integer" : "a number";
    throw new UsageError(`--${name} must be ${kind} from ${min} to ${max}, got "${raw}"`);
  }
  return v;
}

function list(raw: string[] | string | undefined): string[] {
  const parts = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((s) => s.split(","));
  return parts.map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * The slice from --index/--total, defaulting from an indexed Job's JOB_COMPLETION_INDEX and
 * LOAD_TOTAL_PODS; undefined for a whole run.
 */
function sliceOf(index: string | undefined, total: string | undefined, env: NodeJS.ProcessEnv): RunSlice | undefined {
  const t = total !== undefined ? { name: "--total", raw: total } : { name: "LOAD_TOTAL_PODS", raw: env["LOAD_TOTAL_PODS"] };
  const i = index !== undefined ? { name: "--index", raw: index } : { name: "JOB_COMPLETION_INDEX", raw: env["JOB_COMPLETION_INDEX"] };
  if (t.raw === undefined && i.raw === undefined) return undefined;
  if (t.raw === undefined) throw new UsageError(`${i.name} is set but --total (LOAD_TOTAL_PODS) is not`);
  const int = (name: string, raw: string, max: number): number => {
    const v = Number(raw);
    if (raw.trim() === "" || !Number.isInteger(v) || v < 0 || v > max)
      throw new UsageError(`${name} must be an integer from 0 to ${max}, got "${raw}"`);
    return v;
  };
  const n = int(t.name, t.raw, 100_000);
  if (n === 0) throw new UsageError(`${t.name} must be at least 1, got "${t.raw}"`);
  return { index: i.raw === undefined ? 0 : int(i.name, i.raw, n - 1), total: n };
}

/**
 * Parses argv (without node and script) into options; throws {@link UsageError} on any problem.
 * `env` supplies the defaults of --index, --total and --run-id.
 */
export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
  const v = parsed.values;
  const help = v.help === true;
  const positional = parsed.positionals;
  if (positional.length > 1) throw new UsageError(`unexpected argument "${positional[1]}"`);
  const scenarioRaw = v.scenario ?? positional[0];
  if (scenarioRaw === undefined && !help) throw new UsageError(`missing scenario (one of ${SCENARIOS.join(", ")})`);
  const scenario = (scenarioRaw ?? "ws-subscribe") as ScenarioName;
  if (!SCENARIOS.includes(scenario)) throw new UsageError(`unknown scenario "${scenarioRaw}" (one of ${SCENARIOS.join(", ")})`);

  const urls = list(v.url);
  if (urls.length === 0) urls.push("ws://127.0.0.1:9001/ws");
  for (const u of urls) {
    try {
      parseWsUrl(u);
    } catch (err) {
      throw new UsageError(`--url: ${(err as Error).message}`);
    }
  }
  const grpc = v.grpc ?? "127.0.0.1:50051";
  if (!/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(grpc)) throw new UsageError(`--grpc must be host:port, got "${grpc}"`);
  if (v.token !== undefined && v["jwt-secret"] !== undefined) throw new UsageError("give --token or --jwt-secret, not both");
  const createsByDefault = scenario === "grpc-create" || scenario === "e2e";
  const workersRaw = v.workers ?? "auto";
  const localRaw = v["local-addresses"] ?? "auto";
  const channels = list(v.channels);
  const slice = sliceOf(v.index, v.total, env);
  const runId = v["run-id"] ?? env["LOAD_RUN_ID"];
  if (runId !== undefined && !/^[\w.:-]{1,128}$/.test(runId))
    throw new UsageError(`--run-id must be 1-128 letters, digits, "_", ".", ":" or "-", got "${runId}"`);

  const options: ScenarioOptions = {
    scenario,
    urls,
    grpc,
    sockets: num("sockets", v.sockets, 100, 1, 10_000_000, true),
    streams: num("streams", v.streams, 10, 1, 1_000_000, true),
    channels: channels.length > 0 ? channels : ["orders.created", "orders.status"],
    userRatio: num("user-ratio", v["user-ratio"], 0.5, 0, 1, false),
    users: num("users", v.users, 100, 1, 10_000_000, true),
    rampPerS: num("ramp", v.ramp, 1000, 1, 1_000_000, false),
    durationS: num("duration", v.duration, 10, 0.1, 86_400, false),
    rate: num("rate", v.rate, createsByDefault ? 100 : 0, 0, 10_000_000, false),
    concurrency: num("concurrency", v.concurrency, scenario === "grpc-bulk" ? 1 : 0, 0, 100_000, true),
    batch: num("batch", v.batch, 100, 1, 1_000_000, true),
    count: num("count", v.count, 0, 0, Number.MAX_SAFE_INTEGER, true),
    settleS: num("settle", v.settle, 3, 0, 3600, false),
    maxLoss: num("max-loss", v["max-loss"], 0, 0, 1, false),
    workers: workersRaw === "auto" ? "auto" : num("workers", workersRaw, 0, 0, 1024, true),
    localAddresses: localRaw === "auto" ? "auto" : list(localRaw),
    socketsPerAddress: num("sockets-per-address", v["sockets-per-address"], 25_000, 1, MAX_SOCKETS_PER_ADDRESS, true),
    minAvailableMiB: num("min-available-mib", v["min-available-mib"], 2048, 0, Number.MAX_SAFE_INTEGER, true),
    allowRemote: v["allow-remote"] === true,
    ...(v.token !== undefined ? { token: v.token } : {}),
    ...(v["jwt-secret"] !== undefined ? { jwtSecret: v["jwt-secret"] } : {}),
    ...(slice ? { slice } : {}),
    ...(runId !== undefined ? { runId } : {}),
  };
  if ((scenario === "grpc-create" || scenario === "e2e") && options.rate === 0 && options.concurrency === 0)
    throw new UsageError(`${scenario} needs --rate > 0 or --concurrency > 0`);
  const problem = sliceProblem(options);
  if (problem) throw new UsageError(problem);
  return {
    help,
    options,
    quiet: v.quiet === true,
    ...(v.thresholds !== undefined ? { thresholds: v.thresholds } : {}),
    ...(v.json !== undefined ? { json: v.json } : {}),
    ...(v.html !== undefined ? { html: v.html } : {}),
  };
}
