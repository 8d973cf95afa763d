import { readFileSync } from "node:fs";
import { z } from "zod";
import { ServerError } from "./errors.js";
import type { ServerOptions } from "./server.js";

const configSchema = z
  .object({
    dataDir: z.string().min(1),
    database: z
      .string()
      .regex(/^mysql:\/\//, "must be a mysql:// URL (leave it out for the SQLite file in dataDir)"),
    port: z.number().int().min(0).max(65535),
    host: z.string().min(1),
    origin: z.url(),
    domain: z.string().min(1),
    bodyLimit: z.number().int().positive(),
    allowPrivateAddress: z.boolean(),
    synchronous: z.enum(["full", "normal"]),
    sseStreamsPerUser: z.number().int().positive(),
    role: z.enum(["web", "worker", "all"]),
  })
  .partial()
  .strict();

export type ServerConfig = z.infer<typeof configSchema>;

/** Environment variables, each overriding the config file's key of the same meaning. */
const ENV: Record<string, keyof ServerConfig> = {
  SOTTO_DATA_DIR: "dataDir",
  SOTTO_DATABASE: "database",
  SOTTO_PORT: "port",
  SOTTO_HOST: "host",
  SOTTO_ORIGIN: "origin",
  SOTTO_DOMAIN: "domain",
  SOTTO_BODY_LIMIT: "bodyLimit",
  SOTTO_ALLOW_PRIVATE_ADDRESS: "allowPrivateAddress",
  SOTTO_SYNCHRONOUS: "synchronous",
  SOTTO_SSE_STREAMS_PER_USER: "sseStreamsPerUser",
  SOTTO_ROLE: "role",
};
const NUMERIC = new Set<keyof ServerConfig>(["port", "bodyLimit", "sseStreamsPerUser"]);

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV)) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    out[key] = NUMERIC.has(key) ? Number(value) : key === "allowPrivateAddress" ? value === "true" : value;
  }
  return out;
}

/**
 * Reads the server configuration: the JSON file (if given), then the environment on top, then `overrides` (the
 * command line's); `dataDir` or `database` is required.
 * Errors name the key at fault and never echo the file's other contents.
 */
export function loadConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<ServerConfig> = {},
): ServerOptions {
  let fromFile: unknown = {};
  if (file !== undefined) {
    try {
      fromFile = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new ServerError("invalid_config", `cannot read ${file} as JSON: ${(error as Error).message}`);
    }
  }
  const parsed = configSchema.safeParse({ ...(fromFile as object), ...fromEnv(env), ...overrides });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ServerError(
      "invalid_config",
      `${issue?.path.join(".") || "config"}: ${issue?.message ?? "invalid"}`,
    );
  }
  if (parsed.data.dataDir === undefined && parsed.data.database === undefined) {
    throw new ServerError(
      "invalid_config",
      "dataDir (or SOTTO_DATA_DIR) is required, or database (SOTTO_DATABASE, --database) for MariaDB/MySQL",
    );
  }
  return parsed.data;
}
