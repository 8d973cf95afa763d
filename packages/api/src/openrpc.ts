// The contract as documents for non-TypeScript clients, generated from the zod schemas: a JSON Schema bundle of
// every named schema, and an OpenRPC document of every method. Both are checked in; a test fails when they drift.
import { z } from "zod";
import { API_ERRORS, type ApiErrorCode } from "./errors.js";
import { EVENT_METHOD } from "./events.js";
import { METHOD_NAMES, methods } from "./methods.js";

export type JsonSchema = { [key: string]: unknown };

/** The API contract's version (OpenRPC `info.version`): bumped on any incompatible change. */
export const API_VERSION = "1.0.0";

const ROOTS = ["Event", "EventBody", "RpcError"];

function idOf(schema: z.ZodType): string {
  const id = z.globalRegistry.get(schema)?.id;
  if (typeof id !== "string") throw new Error("every contract schema has an id");
  return id;
}

/**
 * Every named schema of the contract, as JSON Schema (2020-12) keyed by id, referring to each other with
 * `#/components/schemas/<id>`. Params are described as callers send them (defaults optional); everything else
 * as the daemon sends it.
 */
export function contractSchemas(): Record<string, JsonSchema> {
  const convert = (io: "input" | "output") =>
    z.toJSONSchema(z.globalRegistry, {
      io,
      uri: (id) => `#/components/schemas/${id}`,
      unrepresentable: "any",
    }).schemas as Record<string, JsonSchema>;
  const output = convert("output");
  const input = convert("input");
  const paramIds = new Set(METHOD_NAMES.map((m) => idOf(methods[m].params)));
  // Only what the contract reaches (the registry is global: other packages may register schemas too).
  const wanted = new Set<string>();
  const visit = (id: string) => {
    if (wanted.has(id)) return;
    wanted.add(id);
    const refs = JSON.stringify((paramIds.has(id) ? input : output)[id]).matchAll(
      /"#\/components\/schemas\/([^"]+)"/g,
    );
    for (const [, ref] of refs) visit(ref as string);
  };
  for (const m of METHOD_NAMES) {
    visit(idOf(methods[m].params));
    visit(idOf(methods[m].result));
  }
  for (const id of ROOTS) visit(id);
  const out: Record<string, JsonSchema> = {};
  for (const id of [...wanted].sort()) {
    const { $schema: _s, $id: _i, ...schema } = (paramIds.has(id) ? input : output)[id] as JsonSchema;
    out[id] = schema;
  }
  return out;
}

/** One JSON Schema document holding every schema under `$defs`. */
export function jsonSchemaBundle(): JsonSchema {
  const defs = contractSchemas();
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://sotto.invalid/api/schema.json",
    title: "Sotto local API",
    description:
      "Every schema of sottod's local API (JSON-RPC 2.0 over WebSocket), generated from @sotto/api.",
    $defs: JSON.parse(JSON.stringify(defs).replaceAll('"#/components/schemas/', '"#/$defs/')),
  };
}

const errorRef = (code: ApiErrorCode) => ({ $ref: `#/components/errors/${code}` });

/** The OpenRPC 1.3 document of the API. Events are described under `x-notifications`. */
export function openRpcDocument(): JsonSchema {
  const schemas = contractSchemas();
  return {
    openrpc: "1.3.2",
    info: {
      title: "sottod local API",
      version: API_VERSION,
      description:
        "JSON-RPC 2.0 over a WebSocket on loopback; one JSON object per text frame. Authenticate with the bearer token from the daemon's state dir. Events arrive as `event` notifications with a monotonic `seq`; resume with `events.subscribe({ since })`.",
      license: { name: "MIT" },
    },
    servers: [
      { name: "sottod", url: "ws://127.0.0.1:{port}/", description: "The URL is in <state dir>/api.json" },
    ],
    methods: METHOD_NAMES.map((name) => {
      const spec = methods[name];
      const params = schemas[idOf(spec.params)] as {
        properties?: Record<string, JsonSchema>;
        required?: string[];
      };
      return {
        name,
        summary: spec.summary,
        paramStructure: "by-name",
        params: Object.entries(params.properties ?? {}).map(([param, schema]) => ({
          name: param,
          required: params.required?.includes(param) ?? false,
          schema,
          ...(typeof schema.description === "string" ? { description: schema.description } : {}),
        })),
        result: { name: "result", schema: { $ref: `#/components/schemas/${idOf(spec.result)}` } },
        errors: spec.errors.map(errorRef),
      };
    }),
    components: {
      schemas,
      errors: Object.fromEntries(
        Object.entries(API_ERRORS).map(([code, { rpc, description }]) => [
          code,
          { code: rpc, message: description, data: { code } },
        ]),
      ),
    },
    "x-notifications": [
      {
        name: EVENT_METHOD,
        summary: "An event from the daemon's event log (after events.subscribe).",
        params: [{ name: "event", required: true, schema: { $ref: "#/components/schemas/Event" } }],
      },
    ],
  };
}
