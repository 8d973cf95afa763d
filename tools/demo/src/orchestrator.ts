import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { SottoClient } from "@sotto/api";
import { STORE_FILE } from "@sotto/daemon";
import type { SottoServer } from "@sotto/server";
import type { DemoOptions } from "./args.js";
import { type AccountView, banner, shown } from "./banner.js";
import { newestStoredMessage, searchFiles } from "./ciphertext.js";
import { daemonBinaries, type RunningDaemon, startDaemon } from "./daemonProcess.js";
import { DemoError } from "./errors.js";
import { sendFirstMessage } from "./exchange.js";
import { type AccountName, type Layout, layout } from "./layout.js";
import { type Monitor, monitorDaemon } from "./monitor.js";
import { ensurePassphraseFile, readSecretFile } from "./secrets.js";
import { ensureAccount, startEmbeddedServer } from "./server.js";
import { type DemoState, readDemoState, writeDemoState } from "./state.js";
import type { Teardown } from "./teardown.js";

const README = `DEMO ONLY - created by \`npm start\` in the Sotto repository.

server/                      the embedded sotto-server's database
<name>/                      sottod's state for that account: encrypted store (sotto.db), API token, api.json
<name>.server-token          the bearer token the embedded server issued to that account
<name>.DEMO-ONLY.passphrase  the passphrase of <name>/sotto.db (its first line), generated for this demo.
                             It sits right beside the store, so anyone who can read this directory can read
                             these accounts' messages.
demo.json                    the server's port and the accounts, so the next npm start reuses them

For real use, keep the passphrase elsewhere, or use a systemd credential: see docs/operations.md.
Delete this directory to start the demo afresh.
`;
export interface Running {
  readonly origin: string;
  readonly daemons: readonly RunningDaemon[];
  /** Resolves when a daemon exits on its own (it should not). */
  readonly daemonExited: Promise<string>;
}

/** Prints progress and what is running; everything it starts is registered with `teardown`. */
export async function startAll(
  options: DemoOptions,
  teardown: Teardown,
  out: (line: string) => void,
): Promise<Running> {
  const say = (line: string) => out(`[sotto] ${line}`);
  const cwd = process.cwd();
  const paths = layout(options.dataDir);
  await mkdir(paths.root, { recursive: true, mode: 0o700 });
  await writeFile(paths.readme, README);
  const previous = await readDemoState(paths.stateFile);
  if (previous && options.port !== undefined && options.port !== previous.port) {
    throw new DemoError(
      "bad_arguments",
      `the accounts in ${shown(paths.root, cwd)} live at port ${previous.port}; use another --data-dir for port ${options.port}`,
    );
  }

  say(
    previous
      ? `reusing the demo state in ${shown(paths.root, cwd)}/`
      : `new demo state in ${shown(paths.root, cwd)}/`,
  );
  say("starting the embedded sotto-server ...");
  const server = await startEmbeddedServer(paths.serverDir, options.port ?? previous?.port);
  teardown.defer("sotto-server", () => server.close());
  say(`sotto-server listens at ${server.origin}`);

  const names: AccountName[] = options.demo ? ["alice", "bob"] : ["alice"];
  const state: DemoState = {
    version: 1,
    port: Number(new URL(server.origin).port),
    accounts: { ...previous?.accounts },
  };
  for (const name of names) {
    const accountPaths = paths.account(name);
    const account = await ensureAccount(server, accountPaths, state.accounts[name]?.actorId);
    const store = join(accountPaths.stateDir, STORE_FILE);
    if (await ensurePassphraseFile(accountPaths.passphraseFile, store)) {
      say(`generated a demo-only store passphrase for ${name}`);
    }
    say(`${account.created ? "created" : "reusing"} the account ${account.actorId}`);
    state.accounts[name] = { ...state.accounts[name], actorId: account.actorId };
    await writeDemoState(paths.stateFile, state);
  }

  const daemons: RunningDaemon[] = [];
  const monitors: Monitor[] = [];
  const views: AccountView[] = [];
  const nameOf = (actorId: string) =>
    names.find((name) => state.accounts[name]?.actorId === actorId) ?? actorId;
  for (const name of names) {
    const accountPaths = paths.account(name);
    const actorId = state.accounts[name]?.actorId as string;
    const fresh = !existsSync(join(accountPaths.stateDir, STORE_FILE));
    say(fresh ? `sottod init for ${name}, then sottod run ...` : `starting sottod for ${name} ...`);
    const daemon = await startDaemon({ paths: accountPaths, actorId, output: out });
    teardown.defer(`sottod ${name}`, () => daemon.stop());
    daemons.push(daemon);
    const { status, webUrl } = await statusOf(daemon);
    say(`sottod for ${name} is ready (pid ${daemon.pid}, API ${daemon.apiUrl})`);
    const monitor = await monitorDaemon({ daemon, since: state.accounts[name]?.seq, nameOf, say });
    monitors.push(monitor);
    // Registered after the daemon, so it closes first; the next run replays what happened after `lastSeq`.
    teardown.defer(`watching ${name}`, async () => {
      monitor.close();
      const account = state.accounts[name];
      if (account && monitor.lastSeq !== undefined) {
        state.accounts[name] = { ...account, seq: monitor.lastSeq };
        await writeDemoState(paths.stateFile, state);
      }
    });
    views.push({
      name,
      handle: status.account?.handle ?? actorId,
      actorId,
      pid: daemon.pid,
      apiUrl: daemon.apiUrl,
      webUrl,
      apiTokenFile: daemon.apiTokenFile,
      stateDir: accountPaths.stateDir,
      passphraseFile: accountPaths.passphraseFile,
    });
  }

  const [alice, bob] = daemons;
  if (options.demo && alice !== undefined && bob !== undefined) {
    await showFirstMessage(paths, server, alice, bob, state.accounts.bob?.actorId as string, say);
  }

  const { sotto } = daemonBinaries();
  out(
    banner({
      origin: server.origin,
      serverDir: paths.serverDir,
      dataDir: paths.root,
      accounts: views,
      cli: { node: nodeForCommands(sotto), script: sotto },
      demo: options.demo,
      cwd,
    }),
  );
  for (const monitor of monitors) monitor.goLive();
  return {
    origin: server.origin,
    daemons,
    daemonExited: Promise.race(
      daemons.map((d) => d.exited.then((code) => `sottod ${d.name} exited (${code})`)),
    ),
  };
}

/** The daemon's status, and a one-time login link to its web UI (null when it serves none). */
async function statusOf(daemon: RunningDaemon) {
  const client = await SottoClient.connect({
    url: daemon.apiUrl,
    token: await readSecretFile(daemon.apiTokenFile),
    reconnect: false,
  });
  try {
    const status = await client.call("status");
    const { url } = await client.call("auth.code");
    return { status, webUrl: url };
  } finally {
    client.close();
  }
}

/** alice -> bob through the two daemons, then what bob got and what the server holds. */
async function showFirstMessage(
  paths: Layout,
  server: SottoServer,
  alice: RunningDaemon,
  bob: RunningDaemon,
  bobActor: string,
  say: (line: string) => void,
): Promise<void> {
  const text = `Hello Bob! This is Alice, end-to-end encrypted with MLS (${new Date().toISOString()})`;
  const exchange = await sendFirstMessage({ from: alice, to: bob, toActor: bobActor, text, progress: say });
  say(`bob's daemon received and decrypted it: "${exchange.received.content}"`);
  if (exchange.received.content !== text) {
    throw new DemoError("exchange_failed", "bob's daemon decrypted a different text than alice sent");
  }

  const stored = await newestStoredMessage(
    bobActor,
    await readSecretFile(paths.account("bob").serverTokenFile),
  );
  say(`what ${server.origin} stores and serves for bob (${stored.activityId}):`);
  say(`  ${stored.objectType}, mediaType ${stored.mediaType}, encoding ${stored.encoding}`);
  say(
    `  content ${stored.content.slice(0, 40)}...${stored.content.slice(-24)} (${stored.content.length} base64 chars)`,
  );
  say("  an MLS PrivateMessage: its header (group id, epoch) is readable, the message itself is ciphertext");
  const onServer = await searchFiles(paths.serverDir, text);
  const atRest = await searchFiles(paths.account("bob").stateDir, text);
  if (onServer.found.length > 0) {
    throw new DemoError(
      "exchange_failed",
      `the message text is in the server's files: ${onServer.found.join(", ")}`,
    );
  }
  if (atRest.found.length > 0) {
    throw new DemoError(
      "exchange_failed",
      `the message text is in bob's store files: ${atRest.found.join(", ")}`,
    );
  }
  say(
    `searched the server's database (${onServer.bytes} bytes): the message text is not there, only ciphertext`,
  );
  say(`searched bob's store (${atRest.bytes} bytes): the text is not there either (encrypted at rest)`);
}

/** Node 24 for the printed commands: the workspace's node_modules/.bin/node when there is one. */
function nodeForCommands(script: string): string {
  for (let dir = dirname(script); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", ".bin", "node");
    if (existsSync(candidate)) return candidate;
  }
  return process.execPath;
}
