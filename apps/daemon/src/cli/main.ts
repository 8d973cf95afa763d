// The `sotto` command: a thin frontend on SottoClient. Human output by default, `--json` for scripts.
import { parseArgs } from "node:util";
import { ApiError, ClientError, type MethodName, methods, SottoClient } from "@sotto/api";
import { SottoError } from "@sotto/core";
import { VERSION } from "../version.js";
import { type CliIo, COMMANDS, type Command, type Context, type Values } from "./commands.js";
import { CliError, resolveConnection } from "./config.js";
import { GLOBAL_OPTIONS, OPTIONS, type OptionName, optionUsage } from "./options.js";

export type { CliIo } from "./commands.js";

/**
 * Exit codes: 0 ok; 1 the daemon refused (an API error) or nothing matches a name; 2 cannot reach the daemon
 * or read its token; 3 `send --wait`: the message was not delivered; 64 usage; 66 an input file cannot be read.
 */
export const EXIT = { ok: 0, refused: 1, unreachable: 2, notDelivered: 3, usage: 64, noInput: 66 } as const;

const EXIT_CODES = `exit codes: 0 ok, 1 the daemon refused (the reason is printed) or no such chat/message,
2 cannot reach sottod or read its token, 3 send --wait: not delivered, 64 usage, 66 cannot read an input file`;

const firstSentence = (text: string) => text.match(/^.*?\.(?=\s|$)/)?.[0] ?? text;

/** A command's one line: its own, else the summary of the API method it is about. */
const aboutOf = (command: Command) =>
  command.about ?? firstSentence(methods[command.methods[0] as MethodName].summary);

const usageLine = (name: string, command: Command) =>
  `sotto ${name}${command.args ? ` ${command.args}` : ""}`;

/** `sotto --help`: every command with its line, then the global options. */
export function usage(): string {
  const rows = [
    ...Object.entries(COMMANDS).map(([name, c]) => [`${name} ${c.args}`.trim(), aboutOf(c)] as const),
    ["help [command]", "This help, or a command's own (also: sotto <command> --help)."] as const,
  ];
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const globals = GLOBAL_OPTIONS.map((o) => [optionUsage(o), OPTIONS[o].about] as const);
  const optionWidth = Math.max(...globals.map(([left]) => left.length)) + 2;
  return `usage: sotto [options] <command> [arguments]

commands:
${rows.map(([left, about]) => `  ${left.padEnd(width)}${about}`).join("\n")}

<chat> is the short id \`sotto chats\` shows (or any unique start of the conversation's uuid), its title, or a
person's handle (@user@host) or actor id for the one-to-one chat with them. <message> is the short id
\`sotto history\` shows.

options:
${globals.map(([left, about]) => `  ${left.padEnd(optionWidth)}${about}`).join("\n")}

${EXIT_CODES}
`;
}

/** `sotto help <command>`: its usage, what it does (the API's own words), its options. */
export function commandHelp(name: string, command: Command): string {
  const apiLines = command.methods.map((m) => `  ${m}: ${methods[m].summary}`);
  const own = (command.options ?? []).map((o) => `  ${optionUsage(o).padEnd(26)}${OPTIONS[o].about}`);
  return [
    `usage: ${usageLine(name, command)}${command.options?.length ? " [options]" : ""}`,
    "",
    aboutOf(command),
    "",
    "API methods:",
    ...apiLines,
    ...(own.length > 0 ? ["", "options:", ...own] : []),
    "",
    "global options: --json, --state-dir DIR, --url URL, --token-file FILE (see sotto --help)",
    "",
  ].join("\n");
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes("--json");
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    return report(new CliError("usage", (error as Error).message), io, json, "see: sotto --help");
  }
  const { values, positionals } = parsed;
  const [name, ...args] = positionals;
  if (values.version) {
    io.stdout(values.json ? `${JSON.stringify({ version: VERSION })}\n` : `sotto ${VERSION}\n`);
    return EXIT.ok;
  }
  if (name === "help" || (values.help && name === undefined)) {
    const topic = name === "help" ? args[0] : undefined;
    if (topic === undefined) {
      io.stdout(usage());
      return EXIT.ok;
    }
    const command = lookup(topic);
    if (command instanceof CliError) return report(command, io, json, "see: sotto --help");
    io.stdout(commandHelp(topic, command));
    return EXIT.ok;
  }
  if (name === undefined) {
    io.stderr(usage());
    return EXIT.usage;
  }
  const command = lookup(name);
  if (command instanceof CliError) return report(command, io, json, "see: sotto --help");
  if (values.help) {
    io.stdout(commandHelp(name, command));
    return EXIT.ok;
  }
  const stray = (Object.keys(values) as OptionName[]).filter(
    (o) => !GLOBAL_OPTIONS.includes(o) && !command.options?.includes(o),
  );
  const hint = `usage: ${usageLine(name, command)} (see: sotto help ${name})`;
  if (stray.length > 0) {
    return report(new CliError("usage", `${name} takes no --${stray[0]}`), io, json, hint);
  }
  if (args.length < (command.min ?? 0))
    return report(new CliError("usage", "missing arguments"), io, json, hint);
  let client: SottoClient | undefined;
  try {
    const connection = resolveConnection(
      { stateDir: str(values["state-dir"]), url: str(values.url), tokenFile: str(values["token-file"]) },
      io.env,
    );
    // Where the daemon is, once before connecting, so a missing api.json or token says so plainly: the
    // address first (no daemon is the likelier cause; both at once made which one was reported a race).
    await connection.url();
    await connection.token();
    client = await SottoClient.connect({ ...connection, reconnect: name === "watch" ? undefined : false });
    const connected = client;
    const ctx: Context = {
      client: connected,
      args,
      values: values as Values,
      io,
      print: (human, value) => io.stdout(`${values.json ? JSON.stringify(value) : human}\n`),
      call: (method, params) => {
        // The contract's own check, before anything is sent: the reason the daemon would give, and no request
        // too large for the connection.
        const checked = methods[method].params.safeParse(params ?? {});
        if (!checked.success) {
          const issues = checked.error.issues.map((i) => ({
            code: i.code,
            path: i.path as (string | number)[],
            message: i.message,
          }));
          throw new ApiError("invalid_params", `Invalid params for ${method}`, { issues });
        }
        return (connected.call as (m: MethodName, p: unknown) => Promise<never>)(method, params ?? {});
      },
    };
    await command.run(ctx);
    return EXIT.ok;
  } catch (error) {
    return report(error, io, json);
  } finally {
    client?.close();
  }
}

function lookup(name: string): Command | CliError {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  return command ?? new CliError("usage", `unknown command "${name}"`);
}

const str = (value: unknown) => (typeof value === "string" ? value : undefined);

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: OPTIONS });
}

/** Prints what failed (a sentence, or with --json `{"error": ...}` on stderr) and returns the exit code. */
function report(error: unknown, io: CliIo, json: boolean, hint?: string): number {
  const { code, message, exit, issues } = describeError(error);
  if (json) {
    io.stderr(
      `${JSON.stringify({ error: { code, message, exitCode: exit, ...(issues ? { issues } : {}) } })}\n`,
    );
  } else {
    io.stderr(`sotto: ${message}${hint ? `\n${hint}` : ""}\n`);
  }
  return exit;
}

function describeError(error: unknown): { code: string; message: string; exit: number; issues?: unknown } {
  if (error instanceof ClientError) {
    const cause = error.cause instanceof CliError ? error.cause : undefined;
    if (cause) return describeError(cause);
    return {
      code: error.code,
      message: `cannot talk to sottod: ${error.message}. Is it running (sotto status), and is the token its api-token?`,
      exit: EXIT.unreachable,
    };
  }
  if (error instanceof CliError) {
    const exit =
      error.code === "usage"
        ? EXIT.usage
        : error.code === "no_daemon" || error.code === "no_token"
          ? EXIT.unreachable
          : error.code === "no_input"
            ? EXIT.noInput
            : error.code === "not_delivered"
              ? EXIT.notDelivered
              : EXIT.refused;
    return { code: error.code, message: error.message, exit };
  }
  if (error instanceof ApiError) {
    // The daemon's reason: for bad params, each problem as the contract words it.
    const issues = error.data.issues;
    const reasons = issues?.map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message));
    const message = reasons?.length ? reasons.join("; ") : error.message;
    return {
      code: error.code,
      message: `${message} (${error.code})`,
      exit: EXIT.refused,
      ...(issues ? { issues } : {}),
    };
  }
  if (error instanceof SottoError) return { code: error.code, message: error.message, exit: EXIT.refused };
  return {
    code: "failed",
    message: error instanceof Error ? error.message : String(error),
    exit: EXIT.refused,
  };
}
