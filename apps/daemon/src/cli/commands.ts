// The `sotto` commands: one per operation of the API, each naming the methods it calls, so help (which shows
// those methods' summaries from the contract) and docs/api.md cannot drift apart, and a test can check that
// every method has a command.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ApiEvent, Conversation, EventOf, MethodName, ParamsIn, Result, SottoClient } from "@sotto/api";
import { readAttachment } from "./attachment.js";
import { findChat, isHandle } from "./chat-ref.js";
import { CliError, type Env } from "./config.js";
import {
  authenticationWarning,
  chatName,
  formatAccount,
  formatAlerts,
  formatChats,
  formatContact,
  formatContacts,
  formatConversation,
  formatDevices,
  formatEvent,
  formatMessage,
  formatStatus,
  formatSync,
  shortId,
} from "./format.js";
import type { OptionName } from "./options.js";

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Env;
  /** All of stdin, for `--message-from-stdin` or a text of `-`. */
  readonly readStdin?: () => Promise<string>;
  /** Ends `watch` and `send --wait` (Ctrl-C in the real command). */
  readonly signal?: AbortSignal;
}

export type Values = Partial<Record<OptionName, string | boolean | string[] | undefined>>;

export interface Context {
  readonly client: SottoClient;
  readonly args: readonly string[];
  readonly values: Values;
  readonly io: CliIo;
  /** Prints the human form, or with --json the JSON value. */
  readonly print: (human: string, json: unknown) => void;
  /** Calls a method, its params checked against the contract first (the same reasons the daemon gives). */
  readonly call: <M extends MethodName>(method: M, params?: ParamsIn<M>) => Promise<Result<M>>;
}

export interface Command {
  /** The arguments, as usage shows them. */
  readonly args: string;
  /** The API methods it calls, first the one it is about: help shows their summaries from the contract. */
  readonly methods: readonly MethodName[];
  /** One line for the command list when the first method's summary does not say it. */
  readonly about?: string;
  readonly options?: readonly OptionName[];
  /** Positional arguments it needs at least. */
  readonly min?: number;
  run(ctx: Context): Promise<void>;
}

const str = (v: Values[OptionName]) => (typeof v === "string" ? v : undefined);

function wholeNumber(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError("usage", `--${name} takes a whole number`);
  return n;
}

/** The text of a message: the words given, or stdin with `--message-from-stdin` or a text of `-`. */
async function textOf({ values, io }: Context, words: readonly string[]): Promise<string> {
  if (!values["message-from-stdin"] && !(words.length === 1 && words[0] === "-")) return words.join(" ");
  if (words.length > 0 && words[0] !== "-") {
    throw new CliError("usage", "give the text as words or on stdin, not both");
  }
  if (!io.readStdin) throw new CliError("no_input", "no stdin to read the text from");
  // One trailing newline (what `echo` and editors add) is not part of the message.
  return (await io.readStdin()).replace(/\r?\n$/, "");
}

/** `<message>`: its whole id, or a unique start of its uuid among the conversation's latest 2,000 messages. */
async function findMessage(ctx: Context, chat: Conversation, ref: string): Promise<string> {
  if (ref.includes(":")) return ref;
  const needle = ref.toLowerCase();
  if (needle.length < 4) throw new CliError("usage", `"${ref}": give at least 4 characters of a message id`);
  const found = new Set<string>();
  let before: string | undefined;
  for (let page = 0; page < 4; page++) {
    const result = await ctx.call("messages.list", {
      conversationId: chat.id,
      limit: 500,
      ...(before ? { before } : {}),
    });
    for (const m of result.messages) if (shortId(m.id, 36).toLowerCase().startsWith(needle)) found.add(m.id);
    if (result.before === null) break;
    before = result.before;
  }
  const [first, ...others] = found;
  if (first === undefined)
    throw new CliError("no_match", `no message "${ref}" in ${shortId(chat.id)} (see: sotto history)`);
  if (others.length > 0)
    throw new CliError("ambiguous", `"${ref}" matches several messages: give more of its id`);
  return first;
}

/** `<chat> <message>`, the first two arguments of the commands on one message. */
async function onMessage(ctx: Context): Promise<{ chat: Conversation; messageId: string }> {
  const { chat } = await findChat(ctx.client, ctx.args[0] as string, { includeLeft: true });
  return { chat, messageId: await findMessage(ctx, chat, ctx.args[1] as string) };
}

/**
 * `send` and `reply`: attachments read before anything is sent; a handle without a chat starts one. With
 * --wait, subscribes before sending so the message's `outbox.state` event cannot be missed.
 */
async function send(ctx: Context, ref: string, words: readonly string[], inReplyTo?: string): Promise<void> {
  const { values, io, client } = ctx;
  const attachments = await Promise.all(((values.file as string[] | undefined) ?? []).map(readAttachment));
  const text = await textOf(ctx, words);
  if (text === "" && attachments.length === 0) {
    throw new CliError("usage", "nothing to send: give a text (words, - or --message-from-stdin) or --file");
  }
  const settled = new Map<string, EventOf<"outbox.state">>();
  let wake = () => {};
  if (values.wait) {
    client.onEvent((event) => {
      if (event.type === "outbox.state" && event.state !== "queued") {
        settled.set(event.messageId, event);
        wake();
      }
    });
    await client.subscribe();
  }
  const { chat, self, opened } = await findChat(client, ref, { open: isHandle(ref) || /^https?:/.test(ref) });
  if (opened && !values.json)
    io.stderr(`Started a conversation with ${chatName(chat, self)} (${shortId(chat.id)})\n`);
  // Sent all the same (the user chose to), but never without saying it.
  const warning = authenticationWarning(chat, self);
  if (warning !== undefined)
    io.stderr(
      values.json
        ? `${JSON.stringify({ warning: { code: `device_${chat.authentication}`, message: warning } })}\n`
        : `sotto: warning: ${warning}\n`,
    );
  const reply = inReplyTo === undefined ? undefined : await findMessage(ctx, chat, inReplyTo);
  const message = await ctx.call("messages.send", {
    conversationId: chat.id,
    text,
    ...(reply === undefined ? {} : { inReplyTo: reply }),
    ...(values.html ? { mediaType: "text/html" as const } : {}),
    ...(attachments.length > 0 ? { attachments } : {}),
  });
  if (!values.wait) {
    ctx.print(`Queued ${shortId(message.id)} (${message.id}) in ${chatName(chat, self)}`, message);
    return;
  }
  const outcome = await new Promise<EventOf<"outbox.state"> | undefined>((resolve) => {
    wake = () => {
      const event = settled.get(message.id);
      if (event) resolve(event);
    };
    wake();
    io.signal?.addEventListener("abort", () => resolve(undefined), { once: true });
  });
  if (outcome === undefined) {
    throw new CliError("not_delivered", `stopped waiting: ${message.id} is still queued and will be sent`);
  }
  if (outcome.state === "failed") {
    throw new CliError(
      "not_delivered",
      `${message.id} was not delivered: ${outcome.error ?? "the home server refused it"} (see: sotto status)`,
    );
  }
  const sent = await ctx.call("messages.get", { conversationId: chat.id, messageId: message.id });
  ctx.print(`Sent ${shortId(sent.id)} (${sent.id}) to ${chatName(chat, self)}`, sent);
}

/** Fingerprints as printed (hex groups separated by spaces), given as one argument or many. */
export function fingerprintsOf(words: readonly string[]): string[] {
  const hex = words.join("").replace(/[\s:]/g, "").toLowerCase();
  // A device fingerprint is a SHA-256: 64 hex digits. Anything else is passed on to be refused as it is.
  if (/^[0-9a-f]+$/.test(hex) && hex.length % 64 === 0) return hex.match(/.{64}/g) ?? [];
  return [words.join(" ")];
}

/** `sotto watch`: one line per event, re-querying each new or changed message to show it. */
async function watch(ctx: Context): Promise<void> {
  const { client, values, io, print } = ctx;
  const count = wholeNumber(str(values.count), 0, "count");
  const since = values.since === undefined ? undefined : wholeNumber(str(values.since), 0, "since");
  let seen = 0;
  let stop: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    stop = resolve;
    io.signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  // A lost daemon is said, not retried in silence; the client finds it again through api.json.
  client.onState((state) => {
    if (state === "reconnecting") io.stderr("sotto: lost the connection to sottod; reconnecting...\n");
    if (state === "open") io.stderr(`sotto: reconnected to sottod at ${client.url}\n`);
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
  if (client.state === "open") await client.unsubscribe().catch(() => {});
}

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
    return `#${event.seq} ${shortId(conversation.id)} ${formatMessage(message, conversation)}`;
  } catch {
    return formatEvent(event);
  }
}

const chatArg = { includeLeft: true };

/** A command without arguments: one method, its result printed. */
function plain<M extends "status" | "account.get" | "contacts.list" | "devices.list">(
  method: M,
  format: (result: Result<M>) => string,
): Command {
  return {
    args: "",
    methods: [method],
    async run({ call, print }) {
      const result = await call(method);
      print(format(result), result);
    },
  };
}

/** `contact` and `unverify`: `<handle>`, the contact printed. */
function onContact(method: "contacts.get" | "contacts.unverify"): Command {
  return {
    args: "<handle>",
    methods: [method],
    min: 1,
    async run({ call, args, print }) {
      const contact = await call(method, { actor: args[0] as string });
      print(formatContact(contact), contact);
    },
  };
}

/** `add` and `remove`: `<chat> <handle>...`. */
function membership(
  method: "conversations.addMembers" | "conversations.removeMembers",
  verb: string,
  preposition: string,
): Command {
  return {
    args: "<chat> <handle>...",
    methods: [method],
    min: 2,
    async run({ client, call, args, print }) {
      const [ref, ...members] = args;
      const { chat, self } = await findChat(client, ref as string);
      const updated = await call(method, { conversationId: chat.id, members });
      print(`${verb} ${members.join(", ")} ${preposition} ${chatName(updated, self)}`, updated);
    },
  };
}

/** `react` and `unreact`: `<chat> <message> <emoji>`. */
function reaction(
  method: "messages.react" | "messages.unreact",
  said: (emoji: string, messageId: string) => string,
): Command {
  return {
    args: "<chat> <message> <emoji>",
    methods: [method],
    min: 3,
    async run(ctx) {
      const { chat, messageId } = await onMessage(ctx);
      const emoji = ctx.args[2] as string;
      const result = await ctx.call(method, { conversationId: chat.id, messageId, emoji });
      ctx.print(said(emoji, shortId(messageId)), result);
    },
  };
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  status: plain("status", formatStatus),
  account: plain("account.get", formatAccount),
  chats: {
    args: "",
    methods: ["conversations.list"],
    options: ["all"],
    async run({ call, values, print }) {
      const [result, status] = await Promise.all([
        call("conversations.list", { includeLeft: values.all === true }),
        call("status"),
      ]);
      print(formatChats(result.conversations, status.account?.actorId), result);
    },
  },
  chat: {
    args: "<chat>",
    methods: ["conversations.get"],
    about: "One conversation: its members, epoch and unread count.",
    min: 1,
    async run({ client, args, print }) {
      const { chat, self } = await findChat(client, args[0] as string, chatArg);
      print(formatConversation(chat, self), chat);
    },
  },
  open: {
    args: "<handle>...",
    methods: ["conversations.create"],
    options: ["title"],
    min: 1,
    async run({ call, args, values, print }) {
      const title = str(values.title);
      const chat = await call("conversations.create", { members: [...args], ...(title ? { title } : {}) });
      print(`Started ${shortId(chat.id)} (${chat.id}) with ${args.join(", ")}`, chat);
    },
  },
  title: {
    args: "<chat> [title...]",
    methods: ["conversations.setTitle"],
    about: "Name a conversation for every member; with no title, it has none.",
    min: 1,
    async run({ client, call, args, print }) {
      const { chat } = await findChat(client, args[0] as string);
      const title = args.slice(1).join(" ").trim();
      const result = await call("conversations.setTitle", { conversationId: chat.id, title: title || null });
      print(
        result.title === null
          ? `${shortId(chat.id)} has no title now`
          : `${shortId(chat.id)} is now called "${result.title}"`,
        result,
      );
    },
  },
  add: membership("conversations.addMembers", "Added", "to"),
  remove: membership("conversations.removeMembers", "Removed", "from"),
  leave: {
    args: "<chat>",
    methods: ["conversations.leave"],
    min: 1,
    async run({ client, call, args, print }) {
      const { chat, self } = await findChat(client, args[0] as string);
      const result = await call("conversations.leave", { conversationId: chat.id });
      print(
        `Left ${chatName(chat, self)}; its history stays readable (sotto history ${shortId(chat.id)})`,
        result,
      );
    },
  },
  read: {
    args: "<chat> [message]",
    methods: ["conversations.markRead"],
    min: 1,
    async run(ctx) {
      const { chat, self } = await findChat(ctx.client, ctx.args[0] as string, chatArg);
      const ref = ctx.args[1];
      const messageId = ref === undefined ? undefined : await findMessage(ctx, chat, ref);
      const result = await ctx.call("conversations.markRead", {
        conversationId: chat.id,
        ...(messageId ? { messageId } : {}),
      });
      ctx.print(`Marked ${chatName(chat, self)} read`, result);
    },
  },
  history: {
    args: "<chat>",
    methods: ["messages.list", "conversations.markRead"],
    about: "A conversation's latest messages, oldest first; shown messages are marked read.",
    options: ["limit", "before", "keep-unread"],
    min: 1,
    async run({ client, call, args, values, print }) {
      const { chat, self } = await findChat(client, args[0] as string, chatArg);
      const limit = Math.max(1, wholeNumber(str(values.limit), 20, "limit"));
      const before = str(values.before);
      const page = await call("messages.list", {
        conversationId: chat.id,
        limit,
        ...(before ? { before } : {}),
      });
      const last = page.messages.at(-1);
      // Reading the latest page is reading the conversation: its unread count goes down (and others see it).
      if (before === undefined && last && chat.unread > 0 && !values["keep-unread"] && !chat.left) {
        await call("conversations.markRead", { conversationId: chat.id, messageId: last.id });
      }
      const lines = page.messages.map((m) => formatMessage(m, chat));
      if (page.before !== null)
        lines.unshift(`(older: sotto history ${shortId(chat.id)} --before ${page.before})`);
      // What the conversation's security alerts say comes first: it bears on everything below.
      print([...formatAlerts(chat, self), lines.join("\n") || "No messages."].join("\n"), page);
    },
  },
  show: {
    args: "<chat> <message>",
    methods: ["messages.get"],
    min: 2,
    async run(ctx) {
      const { chat, messageId } = await onMessage(ctx);
      const message = await ctx.call("messages.get", { conversationId: chat.id, messageId });
      const readBy = message.readBy.length > 0 ? `\n    read by ${message.readBy.join(", ")}` : "";
      ctx.print(`${formatMessage(message, chat)}${readBy}\n    id ${message.id}`, message);
    },
  },
  send: {
    args: "<chat> [text...]",
    methods: ["messages.send"],
    about:
      "Send a message (text, - for stdin, files); <chat> may be a handle: a new chat is started if needed.",
    options: ["file", "reply-to", "html", "message-from-stdin", "wait"],
    min: 1,
    run: (ctx) => send(ctx, ctx.args[0] as string, ctx.args.slice(1), str(ctx.values["reply-to"])),
  },
  reply: {
    args: "<chat> <message> [text...]",
    methods: ["messages.send"],
    about: "Reply to a message (as send --reply-to).",
    options: ["file", "html", "message-from-stdin", "wait"],
    min: 2,
    run: (ctx) => send(ctx, ctx.args[0] as string, ctx.args.slice(2), ctx.args[1]),
  },
  edit: {
    args: "<chat> <message> [text...]",
    methods: ["messages.edit"],
    options: ["message-from-stdin"],
    min: 2,
    async run(ctx) {
      const { chat, messageId } = await onMessage(ctx);
      const text = await textOf(ctx, ctx.args.slice(2));
      const message = await ctx.call("messages.edit", { conversationId: chat.id, messageId, text });
      ctx.print(`Edited ${shortId(message.id)}`, message);
    },
  },
  delete: {
    args: "<chat> <message>",
    methods: ["messages.delete"],
    min: 2,
    async run(ctx) {
      const { chat, messageId } = await onMessage(ctx);
      const result = await ctx.call("messages.delete", { conversationId: chat.id, messageId });
      ctx.print(`Deleted ${shortId(messageId)} for everyone`, result);
    },
  },
  react: reaction("messages.react", (emoji, id) => `Reacted ${emoji} to ${id}`),
  unreact: reaction("messages.unreact", (emoji, id) => `Took back ${emoji} from ${id}`),
  save: {
    args: "<chat> <message>",
    methods: ["messages.get"],
    about: "Save a message's attachments as files (never overwriting one).",
    options: ["out"],
    min: 2,
    async run(ctx) {
      const { chat, messageId } = await onMessage(ctx);
      const message = await ctx.call("messages.get", { conversationId: chat.id, messageId });
      const attachments = message.attachments ?? [];
      if (attachments.length === 0)
        throw new CliError("no_match", `${shortId(messageId)} has no attachments`);
      const dir = str(ctx.values.out) ?? ".";
      await mkdir(dir, { recursive: true });
      const saved: string[] = [];
      for (const [i, a] of attachments.entries()) {
        // Only the last path part of a name someone else chose, and no hidden or empty names.
        const name = (a.name ?? "").split(/[/\\]/).at(-1)?.replace(/^\.+/, "") || `attachment-${i + 1}`;
        const path = join(dir, name);
        await writeFile(path, Buffer.from(a.data, "base64"), { flag: "wx", mode: 0o600 }).catch((error) => {
          const code = (error as NodeJS.ErrnoException).code;
          throw new CliError("no_input", `cannot write ${path}: ${code === "EEXIST" ? "it exists" : code}`);
        });
        saved.push(path);
      }
      ctx.print(saved.map((p) => `Saved ${p}`).join("\n"), { saved });
    },
  },
  contacts: plain("contacts.list", (r) => formatContacts(r.contacts)),
  contact: onContact("contacts.get"),
  verify: {
    args: "<handle> [fingerprint...]",
    methods: ["contacts.verify", "contacts.get"],
    about: "Show a contact's fingerprints; with them (as printed) or --confirm, mark the contact verified.",
    options: ["confirm"],
    min: 1,
    async run({ call, args, values, print }) {
      const [actor, ...words] = args as [string, ...string[]];
      if (words.length === 0 && !values.confirm) {
        const contact = await call("contacts.get", { actor });
        print(
          `${formatContact(contact)}\nCompare these with what ${actor} sees (sotto devices on their side), then run:\n  sotto verify ${actor} <fingerprint>   or   sotto verify ${actor} --confirm`,
          contact,
        );
        return;
      }
      const fingerprints = words.length > 0 ? fingerprintsOf(words) : undefined;
      const contact = await call("contacts.verify", fingerprints ? { actor, fingerprints } : { actor });
      print(formatContact(contact), contact);
    },
  },
  unverify: onContact("contacts.unverify"),
  devices: {
    args: "[link | join CODE | approve ID | remove ID]",
    methods: ["devices.list", "devices.link", "devices.join", "devices.approve", "devices.remove"],
    about:
      "This account's devices; link a new one (a code for `sottod init --link CODE` there), approve it once both show the same comparison string, or remove one.",
    async run({ call, args, print }) {
      const [sub, id] = args;
      if (sub === undefined) {
        const r = await call("devices.list");
        print(formatDevices(r.devices), r);
        return;
      }
      if (sub === "link") {
        const r = await call("devices.link");
        print(
          `Link code: ${r.code}  (valid until ${r.expiresAt}, once)
This device: ${r.fingerprint}
On the new device run:  sottod init --link ${r.code} --actor ... --token ...
Then compare the comparison string both show (sotto devices) and run:  sotto devices approve <id>`,
          r,
        );
        return;
      }
      if (id === undefined || !["join", "approve", "remove"].includes(sub))
        throw new CliError("usage", "usage: sotto devices [link | join CODE | approve ID | remove ID]");
      if (sub === "join") {
        const r = await call("devices.join", { code: id });
        print(
          `Asked to be linked. Comparison: ${r.comparison}
Approve on the existing device only if it shows the same.`,
          r,
        );
      } else if (sub === "approve") {
        const r = await call("devices.approve", { id });
        print(
          `Linked ${r.device.name ?? shortId(r.device.id)}: added to ${r.conversations} conversations.`,
          r,
        );
      } else {
        const r = await call("devices.remove", { id });
        print(`Removed the device from ${r.conversations} conversations; its KeyPackages are deleted.`, r);
      }
    },
  },
  sync: {
    args: "",
    methods: ["sync.now"],
    async run({ call, print }) {
      const sync = await call("sync.now");
      print(`Synced: ${formatSync(sync)}`, sync);
    },
  },
  web: {
    args: "",
    methods: ["auth.code"],
    about: "A link that opens the web UI, logged in (its code works once, for 5 minutes).",
    async run({ call, print }) {
      const login = await call("auth.code");
      if (login.url === null) {
        throw new CliError("no_web", "sottod serves no web UI (it runs with --no-web): restart it without");
      }
      print(`Open ${login.url}\n(the link logs in once, until ${login.expiresAt}; keep it private)`, login);
    },
  },
  watch: {
    args: "",
    methods: ["events.subscribe", "events.unsubscribe"],
    about: "Print events as they happen (--json: one event per line); follows a restarted daemon.",
    options: ["since", "count"],
    run: watch,
  },
};

/** Methods no command is about: `auth` is how every command connects. */
export const IMPLICIT_METHODS: Readonly<Partial<Record<MethodName, string>>> = {
  auth: "every command authenticates with the token when it connects",
};
