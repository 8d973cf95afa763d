import { SottoError } from "@sotto/core";
import { type Backend, openBackend } from "./backend.js";
import { loadConfig, type ServerConfig } from "./config.js";
import { migrateToMysql } from "./migrate.js";
import { makePaths } from "./paths.js";
import { type ServerRole, type SottoServer, startServer } from "./server.js";
import { Users } from "./users.js";

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Resolves when the running server should stop (SIGINT/SIGTERM in the real binary). */
  readonly stopped?: Promise<void>;
}

const USAGE = `usage: sotto-server [--config FILE] [--database URL] <command>
  run [--role web|worker|all]  start the server; with a shared database, web processes answer HTTP and queue
                               deliveries, workers deliver (default all: both)
  add-user NAME                create a user and print a first bearer token
  remove-user NAME             delete a user and their tokens
  list-users                   print every user
  issue-token NAME             print a new bearer token for NAME
  revoke-token NAME [TOKEN]    revoke one token, or all of NAME's tokens
  migrate mysql://...          copy the SQLite database of dataDir (server stopped) into an empty MariaDB/MySQL
                               database; then run with --database (or "database") set to that URL
config: a JSON file with dataDir, database, origin, domain, host, port, bodyLimit, allowPrivateAddress,
synchronous, sseStreamsPerUser, role; env SOTTO_DATA_DIR, SOTTO_DATABASE, SOTTO_ORIGIN, SOTTO_DOMAIN, SOTTO_HOST,
SOTTO_PORT, SOTTO_BODY_LIMIT, ... override it, and --database overrides both. Without database, everything is
kept in one SQLite file in dataDir.`;

const ROLES: readonly ServerRole[] = ["web", "worker", "all"];

/** Runs one sotto-server command; answers the process exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const rest = [...args];
  let configFile = io.env.SOTTO_SERVER_CONFIG;
  const overrides: Partial<ServerConfig> = {};
  for (;;) {
    if (rest[0] === "--config") {
      rest.shift();
      configFile = rest.shift();
    } else if (rest[0] === "--database") {
      rest.shift();
      const url = rest.shift();
      if (url !== undefined) overrides.database = url;
    } else break;
  }
  const [command, ...params] = rest;
  try {
    if (command === undefined || command === "help" || command === "--help") {
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    }
    const config = loadConfig(configFile, io.env, overrides);
    if (command === "run") {
      const given = params[0] === "--role" ? params[1] : undefined;
      const role = ROLES.find((r) => r === given);
      if (params.length > 0 && role === undefined) {
        io.err(`sotto-server run takes --role web, worker or all\n${USAGE}`);
        return 2;
      }
      const server: SottoServer = await startServer(role === undefined ? config : { ...config, role });
      io.out(
        (role ?? config.role) === "worker"
          ? `sotto-server started as a worker for ${server.origin}`
          : `sotto-server listening on ${server.origin} (handles @user@${server.domain})`,
      );
      await (io.stopped ?? new Promise<void>(() => {}));
      await server.close();
      return 0;
    }
    if (command === "migrate") {
      for (const line of await migrateToMysql(config, params[0])) io.out(line);
      return 0;
    }
    const backend: Backend = await openBackend(config);
    try {
      const users = new Users(backend.store.accounts);
      const origin =
        config.origin ?? (config.port ? `http://${config.host ?? "127.0.0.1"}:${config.port}` : undefined);
      const name = params[0] ?? "";
      switch (command) {
        case "add-user": {
          await users.add(name);
          io.out(`user ${name}${origin === undefined ? "" : ` ${makePaths(origin).actor(name)}`}`);
          io.out(`token ${await users.issueToken(name)}`);
          return 0;
        }
        case "remove-user":
          await users.remove(name);
          io.out(`removed ${name}`);
          return 0;
        case "list-users":
          for (const user of await users.list()) io.out(user);
          return 0;
        case "issue-token":
          io.out(`token ${await users.issueToken(name)}`);
          return 0;
        case "revoke-token": {
          const revoked = await users.revokeTokens(name, params[1]);
          io.out(`revoked ${revoked} token${revoked === 1 ? "" : "s"}`);
          return revoked > 0 ? 0 : 1;
        }
        default:
          io.err(`unknown command ${command}\n${USAGE}`);
          return 2;
      }
    } finally {
      await backend.close();
    }
  } catch (error) {
    if (error instanceof SottoError) {
      io.err(`sotto-server: ${error.code}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
