// Where the CLI finds the daemon: flags, then environment, then the files sottod writes in its state dir.
import { homedir } from "node:os";
import { join } from "node:path";
import { SottoError } from "@sotto/core";
import { readEndpoint, tokenPath } from "../api/endpoint.js";
import { readToken } from "../api/token.js";

export type Env = Readonly<Record<string, string | undefined>>;

export class CliError extends SottoError<"usage" | "no_daemon" | "no_token" | "no_match" | "ambiguous"> {}

/** `$SOTTO_STATE_DIR`, else `$XDG_STATE_HOME/sotto`, else `~/.local/state/sotto`. */
export function defaultStateDir(env: Env): string {
  if (env.SOTTO_STATE_DIR) return env.SOTTO_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state");
  return join(base, "sotto");
}

export interface Connection {
  readonly url: string;
  readonly token: string;
}

export async function resolveConnection(
  flags: { stateDir?: string; url?: string; tokenFile?: string },
  env: Env,
): Promise<Connection> {
  const stateDir = flags.stateDir ?? defaultStateDir(env);
  const url = flags.url ?? env.SOTTO_API_URL ?? (await readEndpoint(stateDir))?.url;
  if (!url) {
    throw new CliError(
      "no_daemon",
      `no API address in ${stateDir}/api.json: is sottod running? (or pass --url)`,
    );
  }
  const tokenFile = flags.tokenFile ?? env.SOTTO_TOKEN_FILE ?? tokenPath(stateDir);
  try {
    return { url, token: await readToken(tokenFile) };
  } catch (error) {
    // An insecure token file says why (chmod 600); a missing one gets the hint.
    const why = error instanceof SottoError ? error.message : `cannot read the API token at ${tokenFile}`;
    throw new CliError("no_token", `${why} (or pass --token-file)`, { cause: error });
  }
}
