#!/usr/bin/env node
// sottod: the always-on daemon. `sottod init` creates the encrypted store and the device; `sottod run` syncs,
// sends and serves the local API until SIGTERM/SIGINT, then finishes the transaction under way and exits.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { serveApi } from "./api/index.js";
import { Daemon, VERSION } from "./daemon.js";
import { keySourceFromArgs } from "./keySource.js";
import { createLogger, errorFields, type LogLevel } from "./log.js";

const usage = `usage:
  sottod init --data DIR --actor @user@host|URL (--token TOKEN | --token-file FILE)
              [--key-file FILE | --credential NAME] [--device-name NAME]
              [--allow-private-address] [--plain-http-webfinger]
  sottod run  --data DIR [--key-file FILE | --credential NAME] [--api-port PORT] [--no-api]
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
  if (values.help || (command !== "init" && command !== "run") || values.data === undefined) {
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
  const started = performance.now();
  const key = await keySourceFromArgs(keyArgs);
  const daemon = await Daemon.open({ dataDir: values.data, key, logger });
  await daemon.start();
  const api = values["no-api"]
    ? undefined
    : await serveApi(daemon, {
        stateDir: values.data,
        ...(values["api-port"] === undefined ? {} : { port: Number(values["api-port"]) }),
      });
  logger.info("sottod_ready", { startupMs: Math.round(performance.now() - started), api: api?.url });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info("stopping", { signal });
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  await api?.close();
  await daemon.stop();
  return 0;
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
