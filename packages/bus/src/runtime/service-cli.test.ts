import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeEnv } from "./env-reference.js";
import { UsageError, parseServiceCommand, redactUrlPasswords, resolvedConfigText, runServiceCommand } from "./service-cli.js";
import { ConfigError, envInt } from "./service-env.js";

const schema = z.object({
  URL: z.string().describe("where"),
  SECRET: z.string().optional().meta({ description: "a secret", secret: true }),
  PORT: envInt(0, 65_535, 9001).describe("a port"),
  MODE: z.enum(["off", "on"]).default("off").describe("a mode"),
  HOST: z.string().default("h1").meta({ description: "host", defaultText: "the host name" }),
  INDEX: z.coerce.number().int().optional().meta({ description: "internal", internal: true }),
});

describe("the service command line", () => {
  it("runs without arguments, answers the three flags, refuses anything else", () => {
    expect(parseServiceCommand([])).toBe("run");
    expect(parseServiceCommand(["--help"])).toBe("help");
    expect(parseServiceCommand(["-v"])).toBe("version");
    expect(parseServiceCommand(["--check-config"])).toBe("check-config");
    expect(() => parseServiceCommand(["--check-config", "x"])).toThrow(UsageError);
    expect(() => parseServiceCommand(["--port=1"])).toThrow(/--help, --version, --check-config/);
  });

  it("describes each variable from its schema: type with bounds, default, required, secret, internal", () => {
    const vars = Object.fromEntries(describeEnv(schema).map((v) => [v.name, v]));
    expect(vars.URL).toMatchObject({ type: "string", required: true, default: undefined, description: "where" });
    expect(vars.SECRET).toMatchObject({ required: false, secret: true });
    expect(vars.PORT).toMatchObject({ type: "integer 0–65535", default: "9001", required: false });
    expect(vars.MODE).toMatchObject({ type: "one of: off, on", default: "off" });
    expect(vars.HOST).toMatchObject({ default: "h1", defaultText: "the host name" });
    expect(vars.INDEX).toMatchObject({ internal: true, required: false });
  });

  it("redacts secrets and URL passwords in the resolved configuration, and marks defaults", () => {
    expect(redactUrlPasswords("redis://u:pw@a:1,redis://:x@b:2")).toBe("redis://u:***@a:1,redis://:***@b:2");
    expect(redactUrlPasswords("redis+sentinel://s:26379/m?sentinelPassword=top")).toBe("redis+sentinel://s:26379/m?sentinelPassword=***");
    const text = resolvedConfigText(schema, { URL: "redis://u:pw@a:1", SECRET: "hunter2", PORT: " 80 " });
    expect(text).not.toMatch(/hunter2|pw@/);
    expect(text.split("\n")).toEqual([
      "URL=redis://u:***@a:1",
      "SECRET=<redacted>",
      "PORT=80",
      "MODE=off  # default",
      "HOST=h1  # default",
      "# INDEX unset",
      "",
    ]);
  });

  it("--check-config exits 2 with the loader's message, 0 with the resolved configuration", () => {
    const bad = runServiceCommand(
      "check-config",
      "svc",
      schema,
      () => {
        throw new ConfigError("invalid svc configuration: URL: redis://u:pw@x is wrong");
      },
      {},
    );
    expect(bad).toEqual({ stdout: "", stderr: "invalid svc configuration: URL: redis://u:***@x is wrong\n", code: 2 });
    const good = runServiceCommand("check-config", "svc", schema, () => ({}), { URL: "redis://a:1" });
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^# svc \S+ \(commit \S+, node v\d+[^)]*\): configuration valid\nURL=redis:\/\/a:1\n/);
  });

  it("--help lists every variable with its meaning", () => {
    const help = runServiceCommand("help", "svc", schema, () => ({}), {});
    expect(help.code).toBe(0);
    for (const name of Object.keys(schema.shape)) expect(help.stdout).toContain(`  ${name}  (`);
    expect(help.stdout).toContain("HOST  (string, default the host name)");
  });
});
