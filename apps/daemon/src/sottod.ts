// sottod: the always-on daemon. `sottod init` creates the encrypted store and the device; `sottod run` syncs,
// sends and serves the local API until SIGTERM/SIGINT, then finishes the transaction under way and exits.
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SottoError } from "@sotto/core";
import { importStore, openStore, type StoreKey } from "@sotto/storage";
import { ApiServerError, readEndpoint, serveApi } from "./api/index.js";
import { Daemon, STORE_FILE, VERSION } from "./daemon.js";
import { explainFailure, type FailureContext } from "./explain.js";
import { keySourceFromArgs } from "./keySource.js";
import { createLogger, type LogLevel } from "./log.js";
import { startMemoryReducer } from "./memoryReducer.js";
import { defaultWebDir } from "./web.js";

const usage = `usage:
  sottod init --data DIR --actor @user@host|URL (--token TOKEN | --token-file FILE)
              [--key-file FILE | --credential NAME] [--device-name NAME] [--link CODE]
              [--allow-private-address] [--plain-http-webfinger]
  sottod run  --data DIR [--key-file FILE | --credential NAME] [--api-port PORT] [--no-api]
              [--origin URL]... [--no-web | --web-dir DIR]
  sottod export FILE --data DIR [--key-file FILE | --credential NAME] --passphrase-file FILE
  sottod import FILE --data DIR [--key-file FILE | --credential NAME] --passphrase-file FILE
  sottod change-key --data DIR [--key-file FILE | --credential NAME] (--new-key-file FILE | --new-passphrase-file FILE)
export writes an encrypted copy of the store, sealed with the passphrase in --passphrase-file; import turns such a
copy into the store of --data under its key; change-key re-wraps the store's key (no data is rewritten).
Without --key-file or --credential the passphrase is read from the terminal (or stdin's first line).
Common: [--log-level debug|info|warn|error]  sottod --version
Exit codes: 0 done (run: stopped by SIGTERM/SIGINT), 1 failed (the reason is on stderr), 2 usage.`;

const options = {
  data: { type: "string" },
  actor: { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
  "key-file": { type: "string" },
  credential: { type: "string" },
  "device-name": { type: "string" },
  link: { type: "string" },
  "allow-private-address": { type: "boolean" },
  "plain-http-webfinger": { type: "boolean" },
  "api-port": { type: "string" },
  "no-api": { type: "boolean" },
  "no-web": { type: "boolean" },
  "web-dir": { type: "string" },
  origin: { type: "string", multiple: true },
  "passphrase-file": { type: "string" },
  "new-key-file": { type: "string" },
  "new-passphrase-file": { type: "string" },
  "log-level": { type: "string" },
  version: { type: "boolean" },
  help: { type: "boolean" },
} as const;

/** What the command under way is doing, for the message if it fails (see explain.ts). */
let failure: FailureContext = { command: "sottod" };

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true });
  } catch (error) {
    process.stderr.write(`sottod: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`sottod ${VERSION}\n`);
    return 0;
  }
  const command = positionals[0];
  const commands = ["init", "run", "export", "import", "change-key"];
  if (values.help || command === undefined || !commands.includes(command) || values.data === undefined) {
    process.stderr.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const level = (values["log-level"] ?? "info") as LogLevel;
  const logger = createLogger({ level });
  const keyArgs = { keyFile: values["key-file"], credential: values.credential };
  failure = {
    command,
    dataDir: values.data,
    key:
      keyArgs.keyFile !== undefined
        ? "key file"
        : keyArgs.credential !== undefined
          ? "credential"
          : "passphrase",
    actor: values.actor,
    privateNetwork: values["allow-private-address"] === true && values["plain-http-webfinger"] === true,
    exportFile: positionals[1],
    passphraseFile: values["passphrase-file"],
  };
  const dataDir = values.data;
  if (command === "init") {
    const actor = values.actor;
    if (actor === undefined || (values.token ?? values["token-file"]) === undefined) return badUsage();
    const token = values.token ?? readFileSync(values["token-file"] as string, "utf8").trim();
    const key = await keySourceFromArgs(keyArgs, { confirm: true });
    const daemon = await leavingNothingOnFailure(dataDir, () =>
      Daemon.init({
        dataDir,
        key,
        logger,
        actor,
        token,
        deviceName: values["device-name"],
        network: {
          allowPrivateAddress: values["allow-private-address"] === true,
          plainHttpWebFinger: values["plain-http-webfinger"] === true,
        },
      }),
    );
    const account = daemon.getAccount();
    // A device of an account that has one already: ask to be linked (the existing device approves).
    const link =
      values.link === undefined
        ? undefined
        : await daemon
            .joinDevice({ code: values.link })
            .then(async (joined) => {
              await daemon.flushOutbox();
              return joined;
            })
            .catch(async (error: unknown) => {
              await daemon.stop();
              throw error;
            });
    process.stdout.write(
      `${JSON.stringify({
        initialized: account.actorId,
        device: account.device.fingerprint,
        ...(link === undefined ? {} : { comparison: link.comparison }),
      })}\n`,
    );
    if (link !== undefined)
      process.stderr.write(
        `Asked to be linked. Comparison: ${link.comparison}\nApprove on the existing device (sotto devices approve ID) only if it shows the same, then start sottod run here.\n`,
      );
    await daemon.stop();
    return 0;
  }
  if (command !== "run") return await storeCommand(command, positionals[1], values.data, keyArgs, values);
  const started = performance.now();
  const port = values["api-port"] === undefined ? undefined : Number(values["api-port"]);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) return badUsage();
  const key = await keySourceFromArgs(keyArgs);
  const daemon = await Daemon.open({ dataDir: values.data, key, logger });
  // The API is bound before anything starts: a port in use ends the process at once (exit 1, the store
  // closed), so a supervisor's restart policy sees the failure instead of a daemon that nobody can reach.
  // Without --api-port, the port of the previous run (api.json): a web page's origin is its port, so an open
  // page finds the restarted daemon. Only when another program took that port does it move (and say so).
  const stateDir = values.data;
  const serve = (on: number | undefined) =>
    serveApi(daemon, {
      stateDir,
      ...(on === undefined ? {} : { port: on }),
      origins: values.origin ?? [],
      ...(values["no-web"] ? {} : { web: { dir: values["web-dir"] ?? defaultWebDir() } }),
    });
  let api: Awaited<ReturnType<typeof serveApi>> | undefined;
  try {
    const previous = port === undefined ? await previousPort(stateDir) : undefined;
    api = values["no-api"]
      ? undefined
      : previous === undefined
        ? await serve(port)
        : await serve(previous).catch(async (error: unknown) => {
            if (!(error instanceof ApiServerError && error.code === "bind_failed")) throw error;
            const moved = await serve(undefined);
            logger.warn("api_port_changed", {
              previous,
              port: moved.port,
              reason: error.message,
              hint: "open web pages lost this daemon: run `sotto web` for a new link",
            });
            return moved;
          });
  } catch (error) {
    await daemon.stop();
    throw error;
  }
  await daemon.start();
  // Handlers first: a SIGTERM sent on seeing "sottod_ready" must find them (else the default kills at once).
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info("stopping", { signal });
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  // Start-up grew the young generation; an idle daemon gives it back (memoryReducer.ts).
  const reducer = startMemoryReducer();
  reducer.reduce();
  logger.info("sottod_ready", {
    startupMs: Math.round(performance.now() - started),
    api: api?.url,
    web: api?.webUrl,
  });
  await stopped;
  reducer.stop();
  await api?.close();
  await daemon.stop();
  return 0;
}

/** The port the previous `run` served on (its api.json), if any. */
async function previousPort(stateDir: string): Promise<number | undefined> {
  const endpoint = await readEndpoint(stateDir).catch(() => undefined);
  const port = endpoint === undefined ? Number.NaN : Number(new URL(endpoint.url).port);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** A passphrase kept in a file (its first line): for exports and a new store passphrase, so scripts can run. */
const passphraseIn = (file: string) => readFileSync(file, "utf8").split(/\r?\n/)[0] ?? "";

/** `export`, `import` and `change-key`: on the store alone, with the daemon not running (the store is locked). */
async function storeCommand(
  command: string,
  file: string | undefined,
  dataDir: string,
  keyArgs: { keyFile?: string | undefined; credential?: string | undefined },
  values: { "passphrase-file"?: string; "new-key-file"?: string; "new-passphrase-file"?: string },
): Promise<number> {
  const path = join(dataDir, STORE_FILE);
  const exportFile = values["passphrase-file"];
  if (command === "change-key") {
    const newKey: StoreKey | undefined =
      values["new-key-file"] !== undefined
        ? { keyFile: values["new-key-file"] }
        : values["new-passphrase-file"] !== undefined
          ? { passphrase: passphraseIn(values["new-passphrase-file"]) }
          : undefined;
    if (newKey === undefined) return badUsage();
    const store = await openStore({ path, key: await keySourceFromArgs(keyArgs), create: false });
    try {
      await store.changeKey(newKey);
    } finally {
      store.close();
    }
    process.stdout.write(`${JSON.stringify({ keyChanged: path })}\n`);
    return 0;
  }
  if (file === undefined || exportFile === undefined) return badUsage();
  const passphrase = passphraseIn(exportFile);
  if (command === "export") {
    const store = await openStore({ path, key: await keySourceFromArgs(keyArgs), create: false });
    try {
      await store.exportTo(file, passphrase);
    } finally {
      store.close();
    }
    process.stdout.write(`${JSON.stringify({ exported: file })}\n`);
    return 0;
  }
  const key = await keySourceFromArgs(keyArgs, { confirm: true });
  const store = await leavingNothingOnFailure(dataDir, () => {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    return importStore({ from: file, passphrase, path, key });
  });
  store.close();
  process.stdout.write(`${JSON.stringify({ imported: path })}\n`);
  return 0;
}

function badUsage(): number {
  process.stderr.write(`${usage}\n`);
  return 2;
}

/**
 * Runs `create` (init, import), and if it fails removes what it made: the data directory if it did not exist,
 * else the store files that were not there before. The same command then works once the cause is fixed.
 */
async function leavingNothingOnFailure<T>(dataDir: string, create: () => Promise<T>): Promise<T> {
  const existed = existsSync(dataDir);
  const files = ["", "-wal", "-shm", "-journal"].map((suffix) => join(dataDir, `${STORE_FILE}${suffix}`));
  const before = new Set(files.filter((file) => existsSync(file)));
  try {
    return await create();
  } catch (error) {
    if (!existed) rmSync(dataDir, { recursive: true, force: true });
    else for (const file of files) if (!before.has(file)) rmSync(file, { force: true });
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // For people: what failed and what to do. For logs: the stable code (a class name is minified here).
    process.stderr.write(`sottod: ${explainFailure(error, failure)}\n`);
    createLogger().error("sottod_failed", {
      code: error instanceof SottoError ? error.code : undefined,
      reason: (error instanceof Error ? error.message : String(error)).slice(0, 300),
    });
    process.exitCode = 1;
    // Nothing may keep a failed daemon alive (a half-started one holding its store lock is worse than none).
    setTimeout(() => process.exit(1), 2000).unref();
  },
);
