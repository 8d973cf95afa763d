#!/usr/bin/env node
// sotto-xmpp: runs the gateway from a JSON config file until SIGINT/SIGTERM.
//   sotto-xmpp --config /etc/sotto-xmpp/config.json
import { join } from "node:path";
import { loadConfig } from "./config.js";
import { startGateway } from "./gateway.js";
import { jsonLog } from "./log.js";
import { Puppets } from "./puppets.js";

const USAGE = "usage: sotto-xmpp --config <file.json>";

async function main(argv: readonly string[]): Promise<number> {
  const at = argv.indexOf("--config");
  const path = at >= 0 ? argv[at + 1] : undefined;
  if (!path || argv.includes("--help")) {
    process.stderr.write(`${USAGE}\n`);
    return path ? 0 : 2;
  }
  const config = loadConfig(path);
  if (!config.ok) {
    process.stderr.write(`sotto-xmpp: ${config.error.message}\n`);
    return 2;
  }
  const { dataDir, database, xmpp, fediverse, media } = config.value;
  const log = jsonLog(
    (process.env.SOTTO_LOG_LEVEL as "debug" | "info" | "warn" | "error" | undefined) ?? "info",
  );
  const gateway = await startGateway({
    xmpp,
    dataDir,
    ...(database === undefined ? {} : { database }),
    log,
    media: { ...media, allowPrivateAddress: fediverse.allowPrivateAddress },
    fediverse: ({ state, log }) =>
      Puppets.open({
        dataDir: join(dataDir, "fediverse"),
        server: {
          ...(database === undefined ? {} : { database }),
          port: fediverse.port,
          host: fediverse.host,
          ...(fediverse.origin ? { origin: fediverse.origin } : {}),
          ...(fediverse.domain ? { domain: fediverse.domain } : {}),
        },
        defaultXmppDomain: xmpp.allowedDomains[0] as string,
        state,
        log,
        allowPrivateAddress: fediverse.allowPrivateAddress,
      }),
  });
  const origin = (gateway.fediverse as Puppets).origin;
  log("info", "gateway.started", { component: xmpp.domain, origin, allowed: xmpp.allowedDomains.join(",") });
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await gateway.stop();
  log("info", "gateway.stopped");
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`sotto-xmpp: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
