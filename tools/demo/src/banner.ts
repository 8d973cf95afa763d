import { isAbsolute, relative } from "node:path";

/** One running account as the banner shows it. */
export interface AccountView {
  readonly name: string;
  readonly handle: string;
  readonly actorId: string;
  readonly pid: number;
  readonly apiUrl: string;
  /** A one-time login link to the daemon's web UI; null when it serves none. */
  readonly webUrl: string | null;
  readonly apiTokenFile: string;
  readonly stateDir: string;
  readonly passphraseFile: string;
}

export interface BannerInput {
  readonly origin: string;
  readonly serverDir: string;
  readonly dataDir: string;
  readonly accounts: readonly AccountView[];
  /** How to run the `sotto` CLI: the Node 24 binary and the script. */
  readonly cli: { readonly node: string; readonly script: string };
  readonly demo: boolean;
  /** Paths are shown relative to this directory when they are inside it (it is where the commands run). */
  readonly cwd: string;
}

/** `path` relative to `cwd` when inside it, else absolute; quoted for a POSIX shell when it needs to be. */
export function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The three `sotto` commands to try (they run in another terminal, from `cwd`). */
export function tryCommands(input: BannerInput): string[] {
  const [alice, bob] = input.accounts;
  if (alice === undefined) return [];
  const base = [shown(input.cli.node, input.cwd), shown(input.cli.script, input.cwd), "--state-dir"];
  const sotto = (...args: string[]) =>
    [...base, shown(alice.stateDir, input.cwd), ...args].map(shellQuote).join(" ");
  if (bob !== undefined) {
    return [
      sotto("status"),
      // A person's actor id names the one-to-one chat with them.
      sotto("history", bob.actorId),
      sotto("send", bob.actorId, "Hello again, Bob!"),
    ];
  }
  return [sotto("status"), sotto("devices"), sotto("chats")];
}

/** What is running, where its secrets are, and what to try next. */
export function banner(input: BannerInput): string {
  const p = (path: string) => shown(path, input.cwd);
  const lines = [
    "",
    "Sotto is running. Ctrl-C stops everything; the state stays in " +
      `${p(input.dataDir)}/ and the next npm start reuses it.`,
    "",
    `  home server  ${input.origin}  (embedded sotto-server on loopback; database in ${p(input.serverDir)}/)`,
  ];
  for (const account of input.accounts) {
    lines.push(
      "",
      `  ${account.name.padEnd(11)}  ${account.handle}  (sottod, pid ${account.pid})`,
      ...(account.webUrl === null
        ? []
        : [
            `    web UI     ${account.webUrl}  (logs in once, within 5 minutes; \`sotto web\` prints a new link)`,
          ]),
      `    local API  ${account.apiUrl}  (WebSocket, JSON-RPC 2.0: docs/api.md)`,
      `    API token  ${p(account.apiTokenFile)}`,
      `    store      ${p(account.stateDir)}/ (encrypted at rest)`,
      `    passphrase ${p(account.passphraseFile)}  DEMO ONLY: generated, and kept beside the store`,
    );
  }
  lines.push("", "Try the sotto CLI in another terminal, from this directory:");
  for (const command of tryCommands(input)) lines.push(`  ${command}`);
  if (input.accounts.length > 1) {
    lines.push("(with --state-dir pointing at another account's directory you are that account)");
  }
  if (!input.demo) {
    lines.push("", "To see two accounts exchange an encrypted message: npm start -- --demo");
  }
  lines.push("", "More: docs/quickstart.md", "");
  return lines.join("\n");
}
