// Serving a running Daemon's API: the token file and api.json in its state dir, the server on loopback.
import type { Daemon } from "../daemon.js";
import { daemonHandlers } from "./daemon-handlers.js";
import { writeEndpoint } from "./endpoint.js";
import { type ApiServer, type ApiServerOptions, startApiServer } from "./server.js";
import { storeEventLog } from "./store-event-log.js";
import { loadOrCreateToken } from "./token.js";

export interface ServeApiOptions extends Omit<ApiServerOptions, "handlers" | "events" | "token"> {
  /** Where `api-token` (0600) and `api.json` live; the daemon's data dir. */
  readonly stateDir: string;
}

/** Starts the API for `daemon` and tells local clients where it is. Close the returned server before the daemon. */
export async function serveApi(daemon: Daemon, options: ServeApiOptions): Promise<ApiServer> {
  const token = await loadOrCreateToken(options.stateDir);
  const log = options.log ?? ((message: string) => daemon.log.warn("api", { message }));
  const server = await startApiServer({
    ...options,
    log,
    token,
    handlers: daemonHandlers(daemon),
    events: storeEventLog(daemon.store, (seq) =>
      log(`api: event ${seq} does not match the contract; skipped`),
    ),
  });
  await writeEndpoint(options.stateDir, { url: server.url, pid: process.pid });
  return server;
}
