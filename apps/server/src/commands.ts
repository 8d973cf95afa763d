import { SottoError } from "@sotto/core";
import { loadConfig } from "./config.js";
import { makePaths } from "./paths.js";
import { openDatabase, type SottoServer, startServer } from "./server.js";
import { Users } from "./users.js";

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Resolves when the running server should stop (SIGINT/SIGTERM in the real binary). */
  readonly stopped?: Promise<void>;
}

const USAGE = `usage: sotto-server [--config FILE] <command>
  run                          start the server
  add-user NAME                create a user and print a first bearer token
  remove-user NAME             delete a user and their tokens
  list-users                   print every user
  issue-token NAME             print a new bearer token for NAME
  revoke-token NAME [TOKEN]    revoke one token, or all of NAME's tokens
config: a JSON file with dataDir, origin, domain, host, port, bodyLimit; env SOTTO_DATA_DIR, SOTTO_ORIGIN,
SOTTO_DOMAIN, SOTTO_HOST, SOTTO_PORT, SOTTO_BODY_LIMIT override it.`;

/** Runs one sotto-server command; answers the process exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const rest = [...args];
  let configFile = io.env.SOTTO_SERVER_CONFIG;
  if (rest[0] === "--config") {
    rest.shift();
    configFile = rest.shift();
  }
  const [command, ...params] = rest;
  try {
    if (command === undefined || command === "help" || command === "--help") {
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    }
    const config = loadConfig(configFile, io.env);
    if (command === "run") {
      const server: SottoServer = await startServer(config);
      io.out(`sotto-server listening on ${server.origin} (handles @user@${server.domain})`);
      await (io.stopped ?? new Promise<void>(() => {}));
      await server.close();
      return 0;
    }
    const db = openDatabase(config.dataDir);
    try {
      const users = new Users(db);
      const origin =
        config.origin ?? (config.port ? `http://${config.host ?? "127.0.0.1"}:${config.port}` : undefined);
      const name = params[0] ?? "";
      switch (command) {
        case "add-user": {
          await users.add(name);
          io.out(`user ${name}${origin === undefined ? "" : ` ${makePaths(origin).actor(name)}`}`);
          io.out(`token ${users.issueToken(name)}`);
          return 0;
        }
        case "remove-user":
          users.remove(name);
          io.out(`removed ${name}`);
          return 0;
        case "list-users":
          for (const user of users.list()) io.out(user);
          return 0;
        case "issue-token":
          io.out(`token ${users.issueToken(name)}`);
          return 0;
        case "revoke-token": {
          const revoked = users.revokeTokens(name, params[1]);
          io.out(`revoked ${revoked} token${revoked === 1 ? "" : "s"}`);
          return revoked > 0 ? 0 : 1;
        }
        default:
          io.err(`unknown command ${command}\n${USAGE}`);
          return 2;
      }
    } finally {
      db.close();
    }
  } catch (error) {
    if (error instanceof SottoError) {
      io.err(`sotto-server: ${error.code}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
