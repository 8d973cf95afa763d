// The `sotto-xmpp` configuration file (JSON), validated with zod. The component secret comes from the file,
// a secret file, or $SOTTO_XMPP_SECRET, and never reaches a log.
import { readFileSync } from "node:fs";
import { err, ok, type Result, SottoError } from "@sotto/core";
import { z } from "zod";

export class ConfigError extends SottoError<"unreadable" | "invalid" | "no_secret"> {}

const Domain = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i, "a DNS domain");

const ConfigFile = z.strictObject({
  /** Where the gateway keeps its state, its home server's database and the puppets' stores. */
  dataDir: z.string().min(1),
  /**
   * `mysql://user:password@host:port/name`: the gateway's state and its home server's tables go to this
   * MariaDB/MySQL database instead of SQLite files in dataDir (the puppets' stores stay in dataDir).
   */
  database: z
    .string()
    .regex(/^mysql:\/\//, "must be a mysql:// URL")
    .optional(),
  xmpp: z.strictObject({
    /** The XMPP server's component port, e.g. `xmpp://127.0.0.1:5347`. */
    service: z.string().regex(/^xmpp:\/\/[^/]+:\d+$/, "xmpp://host:port"),
    /** The component's domain, e.g. `fedi.example.org`. */
    domain: Domain,
    secret: z.string().min(1).optional(),
    secretFile: z.string().min(1).optional(),
    /** XMPP domains whose users may use the gateway; default: the component domain's parent. */
    allowedDomains: z.array(Domain).min(1).optional(),
  }),
  fediverse: z.strictObject({
    port: z.int().min(0).max(65535).default(8090),
    host: z.string().min(1).default("127.0.0.1"),
    /** The public origin (behind a TLS proxy), e.g. `https://gw.example.org`. */
    origin: z.url().optional(),
    /** The host part of the puppets' handles; default: the origin's host. */
    domain: z.string().min(1).optional(),
    /** Loopback/private addresses and plain-HTTP WebFinger: local tests only. */
    allowPrivateAddress: z.boolean().default(false),
  }),
  /** The media server that serves Fediverse files to XMPP users. */
  media: z
    .strictObject({
      port: z.int().min(0).max(65535).default(8091),
      host: z.string().min(1).default("127.0.0.1"),
      /** The public origin of the media server (behind a TLS proxy), e.g. `https://media.gw.example.org`. */
      origin: z.url().optional(),
    })
    .default({ port: 8091, host: "127.0.0.1" }),
});

export interface GatewayConfig {
  readonly dataDir: string;
  readonly database?: string;
  readonly xmpp: {
    readonly service: string;
    readonly domain: string;
    readonly secret: string;
    readonly allowedDomains: readonly string[];
  };
  readonly fediverse: {
    readonly port: number;
    readonly host: string;
    readonly origin?: string;
    readonly domain?: string;
    readonly allowPrivateAddress: boolean;
  };
  readonly media: { readonly port: number; readonly host: string; readonly origin?: string };
}

/** Validates a parsed configuration; `env` supplies SOTTO_XMPP_SECRET. */
export function readConfig(json: unknown, env: NodeJS.ProcessEnv = {}): Result<GatewayConfig, ConfigError> {
  const parsed = ConfigFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return err(
      new ConfigError("invalid", `${issue?.path.join(".") || "config"}: ${issue?.message ?? "invalid"}`),
    );
  }
  const { dataDir, database, xmpp, fediverse, media } = parsed.data;
  let secret = xmpp.secret ?? env.SOTTO_XMPP_SECRET;
  if (!secret && xmpp.secretFile) {
    try {
      secret = readFileSync(xmpp.secretFile, "utf8").trim();
    } catch {
      return err(new ConfigError("unreadable", `cannot read the secret file ${xmpp.secretFile}`));
    }
  }
  if (!secret)
    return err(
      new ConfigError(
        "no_secret",
        "no component secret: set xmpp.secret, xmpp.secretFile or SOTTO_XMPP_SECRET",
      ),
    );
  const domain = xmpp.domain.toLowerCase();
  const allowedDomains = (xmpp.allowedDomains ?? [domain.slice(domain.indexOf(".") + 1)]).map((d) =>
    d.toLowerCase(),
  );
  return ok({
    dataDir,
    ...(database === undefined ? {} : { database }),
    xmpp: { service: xmpp.service, domain, secret, allowedDomains },
    fediverse: {
      port: fediverse.port,
      host: fediverse.host,
      allowPrivateAddress: fediverse.allowPrivateAddress,
      ...(fediverse.origin ? { origin: fediverse.origin } : {}),
      ...(fediverse.domain ? { domain: fediverse.domain } : {}),
    },
    media: { port: media.port, host: media.host, ...(media.origin ? { origin: media.origin } : {}) },
  });
}

export function loadConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Result<GatewayConfig, ConfigError> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    return err(new ConfigError("unreadable", `cannot read ${path} as JSON: ${(e as Error).message}`));
  }
  return readConfig(json, env);
}
