#!/usr/bin/env node
// `npm start`: the embedded sotto-server and the real sottod daemons on loopback, until Ctrl-C. See README.md.
import { parseDemoArgs, USAGE } from "./args.js";
import { DemoError } from "./errors.js";
import { startAll } from "./orchestrator.js";
import { Teardown } from "./teardown.js";

const out = (line: string) => process.stdout.write(`${line}\n`);
const say = (line: string) => out(`[sotto] ${line}`);

async function main(argv: string[]): Promise<number> {
  const options = parseDemoArgs(argv, process.cwd());
  if (options.help) {
    out(USAGE);
    return 0;
  }
  const teardown = new Teardown(say);
  let signals = 0;
  const signalled = new Promise<string>((resolve) => {
    const onSignal = (signal: string) => {
      signals += 1;
      // A second Ctrl-C does not wait: process.exit's hook kills the daemons that are still running.
      if (signals > 1) process.exit(130);
      resolve(signal);
    };
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => onSignal(signal));
  });
  try {
    const started = startAll(options, teardown, out);
    const first = await Promise.race([started.then(() => undefined), signalled]);
    if (first !== undefined) {
      say(`${first}: stopping ...`);
      return 0;
    }
    const running = await started;
    const reason = await Promise.race([signalled, running.daemonExited.then((why) => ({ why }))]);
    if (typeof reason !== "string") {
      say(`${reason.why}: stopping everything`);
      return 1;
    }
    say(`${reason}: stopping ...`);
    return 0;
  } catch (error) {
    report(error);
    return 1;
  } finally {
    await teardown.run();
    say("everything stopped");
  }
}

function report(error: unknown): void {
  if (error instanceof DemoError) {
    process.stderr.write(`[sotto] ${error.message} (${error.code})\n`);
  } else {
    process.stderr.write(
      `[sotto] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    report(error);
    process.exit(1);
  },
);
