import { z } from "zod";

/**
 * A service's environment schema: one zod object whose keys are the variables it reads. Each
 * field carries its meaning with `.describe(text)` or `.meta({ description, … })` ({@link EnvMeta}).
 */
export type EnvSchema = z.ZodObject<z.ZodRawShape>;

/** Metadata a variable's schema may carry besides its description (`.meta({ … })`). */
export interface EnvMeta {
  /** The value is a secret: `--check-config` prints it redacted. */
  secret?: boolean;
  /** The default as words, where the value depends on the machine (`NODE_ID`: the host name). */
  defaultText?: string;
  /** Set by the service itself, not by people (`EDGE_WORKER_INDEX`); not in the user-facing tables. */
  internal?: boolean;
}

/** One variable of a service, as `--help` and docs/configuration.md show it. */
export interface EnvVariable {
  name: string;
  /** Readable type with bounds: `integer 1–65535`, `one of: off, jwt`, `string`. */
  type: string;
  /** The default as the service applies it, undefined when there is none. */
  default: string | undefined;
  /** The default as documented: `defaultText` if any, else `default`. */
  defaultText: string | undefined;
  required: boolean;
  description: string;
  secret: boolean;
  internal: boolean;
}

type JsonField = {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  description?: string;
} & EnvMeta;

/** `min–max`, `≥ min`, `> min` or nothing, for a number's bounds (safe-integer limits left out). */
function bounds(f: JsonField): string {
  const max = f.maximum !== undefined && f.maximum < Number.MAX_SAFE_INTEGER ? f.maximum : undefined;
  if (f.exclusiveMinimum !== undefined) return max === undefined ? ` > ${f.exclusiveMinimum}` : ` > ${f.exclusiveMinimum}, ≤ ${max}`;
  if (f.minimum !== undefined && f.minimum > Number.MIN_SAFE_INTEGER) return max === undefined ? ` ≥ ${f.minimum}` : ` ${f.minimum}–${max}`;
  return max === undefined ? "" : ` ≤ ${max}`;
}

const BOOLEAN_WORDS = ["true", "false", "1", "0", "yes", "no", "on", "off"];

function typeText(f: JsonField): string {
  if (f.enum) {
    const words = f.enum.filter((v) => v !== "").map(String);
    if (BOOLEAN_WORDS.every((w) => words.includes(w))) return "boolean";
    return `one of: ${words.join(", ")}`;
  }
  if (f.type === "integer" || f.type === "number") return `${f.type}${bounds(f)}`;
  return f.type ?? "string";
}

/** The default a field applies (`.default(v)` outermost), as text; undefined without one. */
function defaultOf(field: z.ZodType): string | undefined {
  const def = (field as unknown as { _zod: { def: { type: string; defaultValue?: unknown } } })._zod.def;
  if (def.type !== "default") return undefined;
  const v = def.defaultValue;
  return Array.isArray(v) ? v.join(",") : String(v);
}

/** The variables of `schema`, in its order, with type, default and meaning read from the schema itself. */
export function describeEnv(schema: EnvSchema): EnvVariable[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const f = z.toJSONSchema(field as z.ZodType, { io: "input", unrepresentable: "any" }) as JsonField;
    const def = defaultOf(field as z.ZodType);
    return {
      name,
      type: typeText(f),
      default: def,
      defaultText: f.defaultText ?? def,
      required: def === undefined && !(field as z.ZodType).safeParse(undefined).success,
      description: f.description ?? "",
      secret: f.secret === true,
      internal: f.internal === true,
    };
  });
}
