import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DemoError } from "./errors.js";

export interface DemoOptions {
  /** Also run a second account and send it a first encrypted message. */
  readonly demo: boolean;
  /** Where all demo state lives (server database, daemon stores, keys, tokens). */
  readonly dataDir: string;
  /** The embedded server's port; undefined = the one kept from the first run, or any free port. */
  readonly port: number | undefined;
  readonly help: boolean;
}

export const USAGE = `usage: npm start [-- [--demo] [--data-dir DIR] [--port N]]

  --demo          also start a second account (bob) and send him a first encrypted message from alice
  --data-dir DIR  where the demo keeps its state (default: .sotto in the current directory)
  --port N        the embedded server's port (default: the one chosen on the first run)
  --help          this text`;

/** Reads the orchestrator's command line; `cwd` resolves a relative `--data-dir`. */
export function parseDemoArgs(argv: readonly string[], cwd: string): DemoOptions {
  let values: { demo?: boolean; "data-dir"?: string; port?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      // `npm start -- --demo` may arrive with the `--` still in front.
      args: argv[0] === "--" ? argv.slice(1) : [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        demo: { type: "boolean" },
        "data-dir": { type: "string" },
        port: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new DemoError("bad_arguments", `${(error as Error).message}\n${USAGE}`);
  }
  return {
    demo: values.demo ?? false,
    dataDir: resolve(cwd, values["data-dir"] ?? ".sotto"),
    port: values.port === undefined ? undefined : parsePort(values.port),
    help: values.help ?? false,
  };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new DemoError("bad_arguments", `--port takes a TCP port (1-65535), not "${text}"`);
  }
  return port;
}
