import { Ajv2020 } from "ajv/dist/2020.js";
import type { ValidateFunction } from "ajv";
import { CLIENT_FRAME_SCHEMAS, type JsonSchema, SERVER_FRAME_SCHEMAS } from "./frame-schemas.js";

/** Checks frame texts against the protocol's JSON Schemas (tests and the edge's EDGE_VALIDATE_FRAMES mode). */
export interface FrameValidator {
  /** Why a frame the edge sends does not match its schema; undefined when it does. */
  serverFrameProblem(text: string): string | undefined;
  /** Why a frame a client sends does not match its schema; undefined when it does. */
  clientFrameProblem(text: string): string | undefined;
}

function compileAll(ajv: Ajv2020, schemas: Record<string, JsonSchema>): Map<string, ValidateFunction> {
  return new Map(Object.entries(schemas).map(([type, s]) => [type, ajv.compile(s)]));
}

function problem(validators: Map<string, ValidateFunction>, side: string, text: string): string | undefined {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return `${side} frame is not JSON: ${text.slice(0, 120)}`;
  }
  const type = typeof frame === "object" && frame !== null ? (frame as { type?: unknown }).type : undefined;
  const validate = typeof type === "string" ? validators.get(type) : undefined;
  if (!validate) return `${side} frame has no known type: ${text.slice(0, 120)}`;
  if (validate(frame)) return undefined;
  const errs = (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "invalid"}`).join("; ");
  return `${side} frame ${type} does not match its schema (${errs}): ${text.slice(0, 300)}`;
}

/** Compiles every frame schema once (ajv, draft 2020-12, all errors). */
export function createFrameValidator(): FrameValidator {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const server = compileAll(ajv, SERVER_FRAME_SCHEMAS);
  const client = compileAll(ajv, CLIENT_FRAME_SCHEMAS);
  return {
    serverFrameProblem: (text) => problem(server, "server", text),
    clientFrameProblem: (text) => problem(client, "client", text),
  };
}
