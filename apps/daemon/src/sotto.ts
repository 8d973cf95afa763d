// `sotto`: the command-line frontend of sottod's local API. See `sotto --help`.
import { text } from "node:stream/consumers";
import { runCli } from "./cli/main.js";

const abort = new AbortController();
process.once("SIGINT", () => abort.abort());
process.once("SIGTERM", () => abort.abort());
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  readStdin: () => text(process.stdin),
  signal: abort.signal,
});
