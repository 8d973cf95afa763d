import { existsSync } from "node:fs";
import { ServerError, type SottoServer, startServer } from "@sotto/server";
import { DemoError } from "./errors.js";
import type { AccountPaths } from "./layout.js";
import { writeSecretFile } from "./secrets.js";

/**
 * First runs pick their port below every common ephemeral range (Linux from 32768, BSD/macOS/Windows from
 * 49152): the accounts live at this port for good, and a port from the ephemeral range can be held by any
 * outgoing connection on the machine when the next start wants it back.
 */
const FIRST_PORTS = { from: 20_000, to: 32_767, tries: 16 } as const;

/** Starts the embedded sotto-server on loopback at `port`, or (first run: undefined) at a free one it picks. */
export async function startEmbeddedServer(dataDir: string, port: number | undefined): Promise<SottoServer> {
  if (port !== undefined) return await startAt(dataDir, port);
  for (let i = 0; i < FIRST_PORTS.tries; i++) {
    const candidate = FIRST_PORTS.from + Math.floor(Math.random() * (FIRST_PORTS.to - FIRST_PORTS.from + 1));
    try {
      return await startAt(dataDir, candidate);
    } catch (error) {
      if (!(error instanceof DemoError && error.code === "port_in_use")) throw error;
    }
  }
  return await startAt(dataDir, 0);
}

async function startAt(dataDir: string, port: number): Promise<SottoServer> {
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
