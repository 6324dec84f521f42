import { buildInfo } from "./build-info.js";
import { type EnvSchema, type EnvVariable, describeEnv } from "./env-reference.js";
import { ConfigError } from "./service-env.js";

/** What a service process was asked to do by its command-line arguments. */
export type ServiceCommand = "run" | "help" | "version" | "check-config";

/** A command line a service does not understand; the message says what it accepts. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const FLAGS: Record<string, ServiceCommand> = {
  "--help": "help",
  "-h": "help",
  "--version": "version",
  "-v": "version",
  "--check-config": "check-config",
};

/** The command `argv` (the arguments after the script) asks for; none = run. */
export function parseServiceCommand(argv: readonly string[]): ServiceCommand {
  if (argv.length === 0) return "run";
  const command = argv.length === 1 ? FLAGS[argv[0] as string] : undefined;
  if (command === undefined)
    throw new UsageError(`unknown arguments: ${argv.join(" ")} (expected one of --help, --version, --check-config)`);
  return command;
}

/** `edge 0.3.0 (commit 1a2b3c4d5e6f, node v24.1.0)`. */
export function versionLine(service: string): string {
  const b = buildInfo();
  return `${service} ${b.version} (commit ${b.commit}, node ${b.node})`;
}

const usage = (service: string): string =>
  `Usage: node services/${service}/dist/main.js [--help | --version | --check-config]

  (no argument)   run the service, configured by the environment variables below
  --help          this text
  --version       version, git commit and Node.js version
  --check-config  validate the environment and print the resolved configuration (secrets
                  redacted); exit 0 when valid, 2 when not
`;

function variableHelp(v: EnvVariable): string {
  const facts = [v.type, v.required ? "required" : v.defaultText !== undefined ? `default ${v.defaultText}` : "optional"];
  if (v.secret) facts.push("secret");
  if (v.internal) facts.push("internal");
  return `  ${v.name}  (${facts.join(", ")})\n      ${v.description}\n`;
}

/** The `--help` text: usage, then every variable with type, default and meaning (docs/configuration.md has the same). */
export function helpText(service: string, schema: EnvSchema): string {
  return `${versionLine(service)}\n\n${usage(service)}\nEnvironment variables (also in docs/configuration.md):\n${describeEnv(schema).map(variableHelp).join("")}`;
}

/** `value` with the passwords of any URLs in it (`//user:pass@`, `password=…`) replaced by `***`. */
export function redactUrlPasswords(value: string): string {
  return value.replace(/(\/\/[^:@/\s,]*:)[^@/\s,]+@/g, "$1***@").replace(/(password=)[^&\s,]+/gi, "$1***");
}

/**
 * The resolved configuration as env-file lines: every variable with the value the service uses
 * (set, or its default, marked) or marked unset; secrets and URL passwords redacted.
 */
export function resolvedConfigText(schema: EnvSchema, env: NodeJS.ProcessEnv): string {
  return describeEnv(schema)
    .map((v) => {
      const raw = env[v.name]?.trim();
      if (raw) return `${v.name}=${v.secret ? "<redacted>" : redactUrlPasswords(raw)}\n`;
      if (v.default !== undefined) return `${v.name}=${v.default}  # default\n`;
      return `# ${v.name} unset\n`;
    })
    .join("");
}

/** The process's output and exit code for a command other than "run". */
export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Answers `--help`, `--version` or `--check-config` for `service`: `load` is the service's own
 * configuration loader (the same checks as at start-up, cross-field rules and files included).
 */
export function runServiceCommand(
  command: Exclude<ServiceCommand, "run">,
  service: string,
  schema: EnvSchema,
  load: () => unknown,
  env: NodeJS.ProcessEnv,
): CommandResult {
  if (command === "help") return { stdout: helpText(service, schema), stderr: "", code: 0 };
  if (command === "version") return { stdout: `${versionLine(service)}\n`, stderr: "", code: 0 };
  try {
    load();
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : `${service} configuration could not be loaded: ${String(err)}`;
    return { stdout: "", stderr: `${redactUrlPasswords(message)}\n`, code: 2 };
  }
  return { stdout: `# ${versionLine(service)}: configuration valid\n${resolvedConfigText(schema, env)}`, stderr: "", code: 0 };
}
