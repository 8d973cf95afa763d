// sottod: the always-on daemon. `sottod init` creates the encrypted store and the device; `sottod run` syncs,
// sends and serves the local API until SIGTERM/SIGINT, then finishes the transaction under way and exits.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { importStore, openStore, type StoreKey } from "@sotto/storage";
import { serveApi } from "./api/index.js";
import { Daemon, STORE_FILE, VERSION } from "./daemon.js";
import { keySourceFromArgs } from "./keySource.js";
import { createLogger, errorFields, type LogLevel } from "./log.js";

const usage = `usage:
  sottod init --data DIR --actor @user@host|URL (--token TOKEN | --token-file FILE)
              [--key-file FILE | --credential NAME] [--device-name NAME]
              [--allow-private-address] [--plain-http-webfinger]
  sottod run  --data DIR [--key-file FILE | --credential NAME] [--api-port PORT] [--no-api]
              [--origin URL]...
  sottod export FILE --data DIR [--key-file FILE | --credential NAME] --passphrase-file FILE
  sottod import FILE --data DIR [--key-file FILE | --credential NAME] --passphrase-file FILE
  sottod change-key --data DIR [--key-file FILE | --credential NAME] (--new-key-file FILE | --new-passphrase-file FILE)
export writes an encrypted copy of the store, sealed with the passphrase in --passphrase-file; import turns such a
copy into the store of --data under its key; change-key re-wraps the store's key (no data is rewritten).
Without --key-file or --credential the passphrase is read from the terminal (or stdin's first line).
Common: [--log-level debug|info|warn|error]  sottod --version`;

const options = {
  data: { type: "string" },
  actor: { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
  "key-file": { type: "string" },
  credential: { type: "string" },
  "device-name": { type: "string" },
  "allow-private-address": { type: "boolean" },
  "plain-http-webfinger": { type: "boolean" },
  "api-port": { type: "string" },
  "no-api": { type: "boolean" },
  origin: { type: "string", multiple: true },
  "passphrase-file": { type: "string" },
  "new-key-file": { type: "string" },
  "new-passphrase-file": { type: "string" },
  "log-level": { type: "string" },
  version: { type: "boolean" },
  help: { type: "boolean" },
} as const;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
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
  if (command === "init") {
    const token =
      values.token ??
      (values["token-file"] === undefined ? undefined : readFileSync(values["token-file"], "utf8").trim());
    if (values.actor === undefined || token === undefined) {
      process.stderr.write(`${usage}\n`);
      return 2;
    }
    const key = await keySourceFromArgs(keyArgs, { confirm: true });
    const daemon = await Daemon.init({
      dataDir: values.data,
      key,
      logger,
      actor: values.actor,
      token,
      deviceName: values["device-name"],
      network: {
        allowPrivateAddress: values["allow-private-address"] === true,
        plainHttpWebFinger: values["plain-http-webfinger"] === true,
      },
    });
    const account = daemon.getAccount();
    process.stdout.write(
      `${JSON.stringify({ initialized: account.actorId, device: account.device.fingerprint })}\n`,
    );
    await daemon.stop();
    return 0;
  }
  if (command !== "run") return await storeCommand(command, positionals[1], values.data, keyArgs, values);
  const started = performance.now();
  const key = await keySourceFromArgs(keyArgs);
  const daemon = await Daemon.open({ dataDir: values.data, key, logger });
  await daemon.start();
  const api = values["no-api"]
    ? undefined
    : await serveApi(daemon, {
        stateDir: values.data,
        ...(values["api-port"] === undefined ? {} : { port: Number(values["api-port"]) }),
        origins: values.origin ?? [],
      });
  // Handlers first: a SIGTERM sent on seeing "sottod_ready" must find them (else the default kills at once).
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info("stopping", { signal });
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  logger.info("sottod_ready", { startupMs: Math.round(performance.now() - started), api: api?.url });
  await stopped;
  await api?.close();
  await daemon.stop();
  return 0;
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
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const store = await importStore({ from: file, passphrase, path, key });
  store.close();
  process.stdout.write(`${JSON.stringify({ imported: path })}\n`);
  return 0;
}

function badUsage(): number {
  process.stderr.write(`${usage}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    createLogger().error("sottod_failed", errorFields(error));
    process.exitCode = 1;
  },
);
