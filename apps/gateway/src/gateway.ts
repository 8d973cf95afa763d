// A running gateway: the XMPP component, the Fediverse side, the bridge between them and its state.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { parseBareJid } from "./addressing.js";
import { Bridge } from "./bridge.js";
import type { FediverseSide } from "./fediverse.js";
import { jsonLog, type Log } from "./log.js";
import { type MediaServer, startMediaServer } from "./media.js";
import { GatewayState } from "./state.js";
import { XmppSide } from "./xmpp/xmpp-side.js";

export interface GatewayOptions {
  readonly xmpp: {
    /** The server's component port, `xmpp://host:port`. */
    readonly service: string;
    /** The component's domain (a subdomain the XMPP server routes to it). */
    readonly domain: string;
    readonly secret: string;
    /** XMPP domains whose users may use the gateway; only the first (the local server's) by default. */
    readonly allowedDomains: readonly string[];
  };
  /** Opens the Fediverse side (e.g. `Puppets.open`) once the gateway's state and log exist. */
  readonly fediverse: (deps: { readonly state: GatewayState; readonly log: Log }) => Promise<FediverseSide>;
  /** Where the gateway keeps its state (`gateway.sqlite`) unless `database` is given. */
  readonly dataDir: string;
  /** `mysql://...`: the gateway's state in this MariaDB/MySQL database (it can then start on another host). */
  readonly database?: string;
  /**
   * The media server that serves Fediverse files to XMPP users (127.0.0.1, a free port, its own origin by
   * default); `allowPrivateAddress` lets XMPP users' file links point at private addresses (tests).
   */
  readonly media?: {
    readonly host?: string;
    readonly port?: number;
    readonly origin?: string;
    readonly allowPrivateAddress?: boolean;
  };
  readonly log?: Log;
}

export interface Gateway {
  readonly xmpp: XmppSide;
  readonly fediverse: FediverseSide;
  readonly state: GatewayState;
  readonly media: MediaServer;
  stop(): Promise<void>;
}

const newId = () => `urn:uuid:${randomUUID()}`;

/** Starts the gateway; resolves once the Fediverse side runs and the component has tried to connect. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? jsonLog();
  const state = await GatewayState.open(
    options.database === undefined
      ? { path: join(options.dataDir, "gateway.sqlite") }
      : { database: options.database },
    (error) => log("error", "gateway.state_write_failed", { error: (error as Error).message }),
  );
  let fediverse: FediverseSide;
  try {
    fediverse = await options.fediverse({ state, log });
  } catch (e) {
    await state.close();
    throw e;
  }
  let media: MediaServer;
  try {
    media = await startMediaServer({
      ...options.media,
      open: (token) => {
        const file = state.mediaFile(token);
        const user = parseBareJid(file?.user ?? "");
        return file && user.ok ? fediverse.file(user.value, file.messageId, file.index) : undefined;
      },
    });
  } catch (e) {
    await fediverse.stop().catch(() => undefined);
    await state.close();
    throw e;
  }
  const xmpp = new XmppSide({ ...options.xmpp, log, newId });
  const allowPrivateAddress = options.media?.allowPrivateAddress ?? false;
  const bridge = new Bridge({
    xmpp,
    fediverse,
    state,
    log,
    newId,
    media: { url: media.url, allowPrivateAddress },
  });
  const stop = async () => {
    await bridge.stop();
    await media.close();
    await state.close();
  };
  try {
    await bridge.start();
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
  return { xmpp, fediverse, state, media, stop };
}
