import { existsSync } from "node:fs";
import { ServerError, type SottoServer, startServer } from "@sotto/server";
import { DemoError } from "./errors.js";
import type { AccountPaths } from "./layout.js";
import { writeSecretFile } from "./secrets.js";

/** Starts the embedded sotto-server on loopback; `port` 0 = any free port (first run). */
export async function startEmbeddedServer(dataDir: string, port: number): Promise<SottoServer> {
  try {
    return await startServer({ dataDir, port, host: "127.0.0.1" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new DemoError(
        "port_in_use",
        `port ${port} is in use. The demo's accounts live at this port (actor ids contain it): stop what holds it ` +
          "(another npm start?), or start afresh with another --data-dir",
      );
    }
    throw error;
  }
}

export interface LocalAccount {
  readonly actorId: string;
  /** True when this run created it. */
  readonly created: boolean;
}

/**
 * The account `paths.name` on the embedded server: created (with a bearer token saved 0600) on the first run,
 * reused after. `knownActorId` is what the state file remembers.
 */
export async function ensureAccount(
  server: SottoServer,
  paths: AccountPaths,
  knownActorId: string | undefined,
): Promise<LocalAccount> {
  if (knownActorId !== undefined && existsSync(paths.serverTokenFile)) {
    return { actorId: knownActorId, created: false };
  }
  try {
    const { actorId, token } = await server.createUser(paths.name);
    await writeSecretFile(paths.serverTokenFile, `${token}\n`);
    return { actorId, created: true };
  } catch (error) {
    if (error instanceof ServerError && error.code === "user_exists") {
      throw new DemoError(
        "bad_state",
        `the server knows ${paths.name} but ${paths.serverTokenFile} is gone; move the data directory away to start afresh`,
      );
    }
    throw error;
  }
}
