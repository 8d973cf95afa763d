// Every option of the `sotto` command, with the words its help shows. Global ones work with any command; a
// command lists the others it takes (a stray one is a usage error, so a typo never goes unnoticed).

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  readonly short?: string;
  /** The value's name in help (`--limit N`). */
  readonly value?: string;
  readonly about: string;
}

export const OPTIONS = {
  json: {
    type: "boolean",
    about: "machine-readable output: the API's JSON on stdout, errors as JSON on stderr",
  },
  "state-dir": {
    type: "string",
    value: "DIR",
    about: "sottod's --data dir (default $SOTTO_STATE_DIR, $XDG_STATE_HOME/sotto or ~/.local/state/sotto)",
  },
  url: {
    type: "string",
    value: "URL",
    about: "the API address (default $SOTTO_API_URL or <state dir>/api.json)",
  },
  "token-file": {
    type: "string",
    value: "FILE",
    about: "the API token (default $SOTTO_TOKEN_FILE or <state dir>/api-token)",
  },
  help: { type: "boolean", short: "h", about: "this help, or a command's own" },
  version: { type: "boolean", short: "V", about: "print the version" },
  all: { type: "boolean", about: "also the conversations you left" },
  title: { type: "string", value: "TITLE", about: "the group's title" },
  limit: { type: "string", value: "N", about: "how many messages (default 20, at most 500)" },
  before: { type: "string", value: "CURSOR", about: "older messages: the cursor the previous page printed" },
  "keep-unread": { type: "boolean", about: "do not mark what is shown as read" },
  file: {
    type: "string",
    multiple: true,
    value: "PATH",
    about: "attach a file (repeatable; 512 KiB in all)",
  },
  "reply-to": { type: "string", value: "MESSAGE", about: "reply to this message (its id from history)" },
  html: { type: "boolean", about: "the text is HTML (sanitized), not plain text" },
  "message-from-stdin": { type: "boolean", about: "read the text from stdin (as does a text of -)" },
  wait: {
    type: "boolean",
    about: "wait until the home server took the message; exit 3 if it failed for good",
  },
  out: { type: "string", value: "DIR", about: "where to write the files (default: the current directory)" },
  confirm: { type: "boolean", about: "mark verified without typing the fingerprints" },
  since: { type: "string", value: "SEQ", about: "first replay the events after this seq" },
  count: { type: "string", value: "N", about: "stop after N events" },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export const GLOBAL_OPTIONS: readonly OptionName[] = [
  "json",
  "state-dir",
  "url",
  "token-file",
  "help",
  "version",
];

/** `--name VALUE` (or `-h, --help`) as help shows it. */
export function optionUsage(name: OptionName): string {
  const spec: OptionSpec = OPTIONS[name];
  const flag = `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.value ? ` ${spec.value}` : ""}`;
  return `${flag}${spec.multiple ? "..." : ""}`;
}
