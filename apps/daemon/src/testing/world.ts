// Test fixtures for end-to-end tests: real sotto-servers on loopback and real daemons with real stores.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SottoServer, startServer } from "@sotto/server";
import { afterAll, beforeAll } from "vitest";
import { Daemon, type DaemonOptions, type InitOptions } from "../daemon.js";
import { createLogger, type Logger } from "../log.js";
import { type Running, startSottod } from "./programs.js";

export interface World {
  readonly dir: string;
  readonly servers: SottoServer[];
  readonly daemons: Daemon[];
  /** Log lines written by every daemon, for assertions that nothing secret was logged. */
  readonly logLines: string[];
  /** The logger every daemon of the world writes to (into `logLines`). */
  readonly logger: Logger;
  /** The bearer tokens the servers issued, by user name. */
  readonly tokens: Map<string, string>;
  server(): Promise<SottoServer>;
  /** A user on `server` with an initialised daemon (not started). */
  daemon(
    server: SottoServer,
    name: string,
    options?: Partial<DaemonOptions> & Pick<InitOptions, "deviceName">,
  ): Promise<Daemon>;
  /** Opens an existing daemon's store again (after `stop`), as a restart would. */
  reopen(name: string, options?: Partial<DaemonOptions>): Promise<Daemon>;
  keyFile(name: string): string;
  close(): Promise<void>;
}

export const network = { allowPrivateAddress: true, plainHttpWebFinger: true, timeoutMs: 5_000 } as const;

export async function createWorld(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), "sottod-e2e-"));
  const servers: SottoServer[] = [];
  const daemons: Daemon[] = [];
  const logLines: string[] = [];
  const tokens = new Map<string, string>();
  const logger: Logger = createLogger({ level: "debug", write: (line) => logLines.push(line) });
  const keyFile = (name: string) => join(dir, `${name}.key`);
  const dataDir = (name: string) => join(dir, `${name}-data`);
  const base = (name: string, options: Partial<DaemonOptions>): DaemonOptions => ({
    dataDir: dataDir(name),
    key: { keyFile: keyFile(name) },
    logger,
    pollIntervalMs: 100,
    keyPackages: { size: 2 },
    outbox: { baseDelayMs: 50, maxDelayMs: 500 },
    ...options,
  });
  return {
    dir,
    servers,
    daemons,
    logLines,
    logger,
    tokens,
    keyFile,
    async server() {
      const server = await startServer({ dataDir: join(dir, `server-${servers.length}`) });
      servers.push(server);
      return server;
    },
    async daemon(server, name, options = {}) {
      const { actorId, token } = await server.createUser(name);
      tokens.set(name, token);
      writeFileSync(keyFile(name), randomBytes(32), { mode: 0o600 });
      const daemon = await Daemon.init({ ...base(name, options), actor: actorId, token, network });
      daemons.push(daemon);
      return daemon;
    },
    async reopen(name, options = {}) {
      const daemon = await Daemon.open(base(name, options));
      daemons.push(daemon);
      return daemon;
    },
    async close() {
      for (const daemon of daemons) {
        await daemon.stop().catch(() => {});
      }
      // Let deliveries already handed to the servers' queues finish: @fedify/sqlite's queue may still be
      // polling for one when its database closes (reported to the server's owner).
      await new Promise((r) => setTimeout(r, 500));
      for (const server of servers) await server.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A world for the enclosing `describe`: created before its tests, closed (servers, daemons, files) after. */
export function useWorld(): () => World {
  let world: World | undefined;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => {
    await world?.close();
  });
  return () => {
    if (world === undefined) throw new Error("the world is created in beforeAll");
    return world;
  };
}

/** The setup the e2e tests share: two servers, and started daemons on them. */
export interface Cast<Names extends readonly string[]> {
  readonly servers: readonly [SottoServer, SottoServer];
  /** One per name, in the order given. */
  readonly daemons: { -readonly [K in keyof Names]: Daemon };
}

/**
 * Two real servers and one started daemon per name, placed on them in turn (the first on the first server, the
 * second on the second, the third on the first...); every daemon but the first has its KeyPackages published,
 * so the first can invite the others at once.
 */
export async function startCast<const Names extends readonly string[]>(
  world: World,
  names: Names,
  options: Partial<DaemonOptions> = {},
): Promise<Cast<Names>> {
  const servers = [await world.server(), await world.server()] as const;
  const daemons: Daemon[] = [];
  for (const [i, name] of names.entries())
    daemons.push(await world.daemon(servers[i % 2] as SottoServer, name, options));
  for (const daemon of daemons) await daemon.start();
  await Promise.all(daemons.slice(1).map((daemon) => daemon.maintainKeyPackages()));
  return { servers, daemons: daemons as Cast<Names>["daemons"] };
}

/** Waits until `daemon` has joined the conversation. */
export function joined(daemon: Daemon, conversationId: string, who = "member"): Promise<true> {
  return until(`${who} joined`, () =>
    daemon.listConversations().conversations.some((c) => c.id === conversationId),
  );
}

/** Waits until `check` returns a value that is not undefined/false, polling; fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every message.created event in a daemon's log, by message id: each must appear once. */
export function createdCounts(daemon: Daemon): Map<string, number> {
  const counts = new Map<string, number>();
  for (let after = 0; ; ) {
    const page = daemon.store.since(after, 1000);
    for (const e of page.events) {
      if (e.type !== "message.created") continue;
      const id = (e.data as { messageId: string }).messageId;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    if (page.events.length === 0) return counts;
    after = page.events.at(-1)?.seq ?? after;
  }
}

/** A message as a daemon has it, or undefined while it has not arrived. */
export function messageOf(daemon: Daemon, conversationId: string, messageId: string) {
  try {
    return daemon.getMessage(conversationId, messageId);
  } catch {
    return undefined;
  }
}

/**
 * The built `sottod run` on the data dir and key file of `name` (a daemon of the world, stopped), logging at
 * debug, once ready (`startSottod`). Stop it when done.
 */
export function runSottod(world: World, name: string, args: readonly string[] = []): Promise<Running> {
  return startSottod([
    "--data",
    join(world.dir, `${name}-data`),
    "--key-file",
    world.keyFile(name),
    "--log-level",
    "debug",
    ...args,
  ]);
}
