// The `sotto` command: a thin frontend on SottoClient. Human output by default, `--json` for scripts.
import { parseArgs } from "node:util";
import { ApiError, type ApiEvent, ClientError, type Conversation, SottoClient } from "@sotto/api";
import { SottoError } from "@sotto/core";
import { readAttachment } from "./attachment.js";
import { findChat } from "./chat-ref.js";
import { CliError, type Env, resolveConnection } from "./config.js";
import {
  formatChats,
  formatContact,
  formatDevices,
  formatEvent,
  formatMessage,
  formatStatus,
} from "./format.js";

export const USAGE = `usage: sotto [options] <command> [arguments]

commands:
  status                      the daemon's state
  chats                       your conversations (numbered)
  open <handle>...            start a conversation with these people
  send <chat> <text>...       send a message (<chat>: number from \`chats\`, id, title or a member's handle);
                              --file PATH (repeatable) attaches a file
  history <chat>              recent messages (--limit N, default 20)
  watch                       print events as they happen (--since SEQ to replay, --count N to stop after N)
  verify <handle> [fp]...     show a contact's key fingerprints; with fingerprints (or --confirm), mark them verified
  devices                     this account's devices and their fingerprints

options:
  --json                      machine-readable output (the API's JSON; \`watch\` prints one event per line)
  --state-dir DIR             sottod's --data dir (default $SOTTO_STATE_DIR, $XDG_STATE_HOME/sotto or ~/.local/state/sotto)
  --url URL                   the API address (default $SOTTO_API_URL or <state dir>/api.json)
  --token-file FILE           the API token (default $SOTTO_TOKEN_FILE or <state dir>/api-token)
`;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Env;
  /** Ends `watch` (Ctrl-C in the real command). */
  readonly signal?: AbortSignal;
}

/** Exit codes: 0 ok, 1 the daemon refused (an API error), 2 cannot reach the daemon, 64 usage. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.stderr(`sotto: ${(error as Error).message}\n\n${USAGE}`);
    return 64;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || !command) {
    (values.help ? io.stdout : io.stderr)(USAGE);
    return values.help ? 0 : 64;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.stderr(`sotto: unknown command "${command}"\n\n${USAGE}`);
    return 64;
  }
  let client: SottoClient | undefined;
  try {
    const connection = await resolveConnection(
      { stateDir: values["state-dir"], url: values.url, tokenFile: values["token-file"] },
      io.env,
    );
    client = await SottoClient.connect({ ...connection, reconnect: command === "watch" ? undefined : false });
    await run({
      client,
      args,
      values,
      io,
      print: (human, json) => io.stdout(`${values.json ? JSON.stringify(json) : human}\n`),
    });
    return 0;
  } catch (error) {
    return report(error, io);
  } finally {
    client?.close();
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      json: { type: "boolean" },
      "state-dir": { type: "string" },
      url: { type: "string" },
      "token-file": { type: "string" },
      limit: { type: "string" },
      since: { type: "string" },
      count: { type: "string" },
      confirm: { type: "boolean" },
      file: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
}

function report(error: unknown, io: CliIo): number {
  if (error instanceof ClientError) {
    io.stderr(`sotto: cannot talk to sottod: ${error.message}\n`);
    return 2;
  }
  if (error instanceof CliError) {
    io.stderr(`sotto: ${error.message}\n`);
    return error.code === "usage" ? 64 : error.code === "no_daemon" || error.code === "no_token" ? 2 : 1;
  }
  if (error instanceof ApiError || error instanceof SottoError) {
    io.stderr(`sotto: ${error.message} (${error.code})\n`);
    return 1;
  }
  io.stderr(`sotto: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

interface Context {
  readonly client: SottoClient;
  readonly args: readonly string[];
  readonly values: ReturnType<typeof parse>["values"];
  readonly io: CliIo;
  /** Prints the human form, or with --json the JSON value. */
  readonly print: (human: string, json: unknown) => void;
}

function need(args: readonly string[], count: number, usage: string): void {
  if (args.length < count) throw new CliError("usage", `usage: sotto ${usage}`);
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError("usage", `--${name} takes a whole number`);
  return n;
}

async function self(client: SottoClient): Promise<string | undefined> {
  return (await client.call("status")).account?.actorId;
}

const COMMANDS: Record<string, (ctx: Context) => Promise<void>> = {
  async status({ client, print }) {
    const status = await client.call("status");
    print(formatStatus(status), status);
  },

  async chats({ client, print }) {
    const result = await client.call("conversations.list");
    print(formatChats(result.conversations, await self(client)), result);
  },

  async open({ client, args, print }) {
    need(args, 1, "open <handle>...");
    const conversation = await client.call("conversations.create", { members: [...args] });
    print(`Started ${conversation.id} with ${args.join(", ")}`, conversation);
  },

  async send({ client, args, values, print }) {
    need(args, 2, "send <chat> <text>... [--file PATH]...");
    const [ref, ...words] = args;
    const attachments = await Promise.all((values.file ?? []).map(readAttachment));
    const chat = await findChat(client, ref as string);
    const message = await client.call("messages.send", {
      conversationId: chat.id,
      text: words.join(" "),
      ...(attachments.length > 0 ? { attachments } : {}),
    });
    print(`Queued ${message.id}`, message);
  },

  async history({ client, args, values, print }) {
    need(args, 1, "history <chat>");
    const chat = await findChat(client, args[0] as string, { includeLeft: true });
    const limit = Math.max(1, positiveInt(values.limit, 20, "limit"));
    const page = await client.call("messages.list", { conversationId: chat.id, limit });
    print(page.messages.map((m) => formatMessage(m, chat)).join("\n") || "No messages.", page);
  },

  async watch({ client, values, io, print }) {
    const count = positiveInt(values.count, 0, "count");
    const since = values.since === undefined ? undefined : positiveInt(values.since, 0, "since");
    let seen = 0;
    let stop: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      stop = resolve;
      io.signal?.addEventListener("abort", () => resolve(), { once: true });
    });
    const conversations = new Map<string, Conversation>();
    // Printing is serialized so lines come out in seq order even when a message has to be fetched first.
    let printing = Promise.resolve();
    client.onEvent((event: ApiEvent) => {
      printing = printing.then(async () => {
        if (count > 0 && seen >= count) return;
        seen += 1;
        print(await describe(client, event, conversations), event);
        if (count > 0 && seen >= count) stop();
      });
    });
    await client.subscribe(since === undefined ? {} : { since });
    await done;
    await printing;
  },

  async verify({ client, args, values, print }) {
    need(args, 1, "verify <handle> [fingerprint]...");
    const [actor, ...fingerprints] = args as [string, ...string[]];
    if (fingerprints.length === 0 && !values.confirm) {
      const contact = await client.call("contacts.get", { actor });
      print(
        `${formatContact(contact)}\nCompare these with what ${actor} sees (e.g. sotto devices on their side), then run:\n  sotto verify ${actor} <fingerprint>...   or   sotto verify ${actor} --confirm`,
        contact,
      );
      return;
    }
    const contact = await client.call(
      "contacts.verify",
      fingerprints.length > 0 ? { actor, fingerprints } : { actor },
    );
    print(formatContact(contact), contact);
  },

  async devices({ client, print }) {
    const result = await client.call("devices.list");
    print(formatDevices(result.devices), result);
  },
};

/** One line for an event; a new or changed message is fetched so it can be shown. */
async function describe(
  client: SottoClient,
  event: ApiEvent,
  cache: Map<string, Conversation>,
): Promise<string> {
  if (event.type !== "message.created" && event.type !== "message.updated") return formatEvent(event);
  try {
    let conversation = cache.get(event.conversationId);
    if (!conversation) {
      conversation = await client.call("conversations.get", { conversationId: event.conversationId });
      cache.set(event.conversationId, conversation);
    }
    const message = await client.call("messages.get", {
      conversationId: event.conversationId,
      messageId: event.messageId,
    });
    return `#${event.seq} ${formatMessage(message, conversation)}`;
  } catch {
    return formatEvent(event);
  }
}
