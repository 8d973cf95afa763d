// Where the CLI finds the daemon: flags, then environment, then the files sottod writes in its state dir.
import { homedir } from "node:os";
import { join } from "node:path";
import { SottoError } from "@sotto/core";
import { readEndpoint, tokenPath } from "../api/endpoint.js";
import { readToken } from "../api/token.js";

export type Env = Readonly<Record<string, string | undefined>>;

export type CliErrorCode =
  | "usage" // wrong arguments (exit 64)
  | "no_daemon" // no API address: sottod not running (exit 2)
  | "no_token" // the API token cannot be read (exit 2)
  | "no_input" // a file or stdin to read cannot be read (exit 66)
  | "no_match" // no conversation or message by that name (exit 1)
  | "ambiguous" // several conversations or messages by that name (exit 1)
  | "no_web" // `sotto web`: sottod runs with --no-web (exit 1)
  | "not_delivered"; // `send --wait`: the message failed (exit 3)

export class CliError extends SottoError<CliErrorCode> {}

/** `$SOTTO_STATE_DIR`, else `$XDG_STATE_HOME/sotto`, else `~/.local/state/sotto`. */
export function defaultStateDir(env: Env): string {
  if (env.SOTTO_STATE_DIR) return env.SOTTO_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state");
  return join(base, "sotto");
}

/** Where the daemon is: read again before every reconnect, so a restarted daemon is found on its new port. */
export interface Connection {
  readonly url: () => Promise<string>;
  readonly token: () => Promise<string>;
}

export function resolveConnection(
  flags: { stateDir?: string | undefined; url?: string | undefined; tokenFile?: string | undefined },
  env: Env,
): Connection {
  const stateDir = flags.stateDir ?? defaultStateDir(env);
  const fixedUrl = flags.url ?? env.SOTTO_API_URL;
  const tokenFile = flags.tokenFile ?? env.SOTTO_TOKEN_FILE ?? tokenPath(stateDir);
  return {
    async url() {
      const url = fixedUrl ?? (await readEndpoint(stateDir).catch(() => undefined))?.url;
      if (!url) {
        throw new CliError(
          "no_daemon",
          `no API address in ${stateDir}/api.json: is sottod running? Start it with sottod run --data ${stateDir} (or pass --url / --state-dir)`,
        );
      }
      return url;
    },
    async token() {
      try {
        return await readToken(tokenFile);
      } catch (error) {
        // An insecure token file says why (chmod 600); a missing one gets the hint.
        const why = error instanceof SottoError ? error.message : `cannot read the API token at ${tokenFile}`;
        throw new CliError("no_token", `${why} (or pass --token-file)`, { cause: error });
      }
    },
  };
}
