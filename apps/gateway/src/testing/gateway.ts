// The gateway as tests and benchmarks run it: on a test Prosody, with its puppets' sotto-server on loopback.
import { join } from "node:path";
import { type Gateway, startGateway } from "../gateway.js";
import type { Log } from "../log.js";
import { Puppets } from "../puppets.js";
import type { Prosody } from "./prosody.js";

export interface TestGatewayOptions {
  readonly prosody: Prosody;
  /** The gateway's state; the puppets live in its `fediverse` subdirectory. */
  readonly dataDir: string;
  /** The puppets' sotto-server port, the same across restarts so their actor ids stay valid. */
  readonly port: number;
  /** `mysql://...`: the gateway's state and its server's tables in MariaDB instead of SQLite files. */
  readonly database?: string;
  readonly log: Log;
  readonly pollIntervalMs?: number;
}

export function startTestGateway(o: TestGatewayOptions): Promise<Gateway> {
  return startGateway({
    xmpp: {
      service: o.prosody.componentService,
      domain: o.prosody.componentDomain,
      secret: o.prosody.componentSecret,
      allowedDomains: [o.prosody.host],
    },
    dataDir: o.dataDir,
    ...(o.database === undefined ? {} : { database: o.database }),
    log: o.log,
    media: { allowPrivateAddress: true },
    fediverse: ({ state, log }) =>
      Puppets.open({
        dataDir: join(o.dataDir, "fediverse"),
        server: { port: o.port, ...(o.database === undefined ? {} : { database: o.database }) },
        defaultXmppDomain: o.prosody.host,
        state,
        log,
        allowPrivateAddress: true,
        pollIntervalMs: o.pollIntervalMs,
      }),
  });
}
