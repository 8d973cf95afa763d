// What sottod says to a person when a command fails: one sentence saying what failed and what to do, from the
// error's stable code (never its class name, which the bundle minifies).
import { SottoError } from "@sotto/core";

/** What the failed command was doing, for the advice. */
export interface FailureContext {
  readonly command: string;
  readonly dataDir?: string | undefined;
  /** How the store key was given. */
  readonly key?: "passphrase" | "key file" | "credential";
  /** `init`: the account, and whether the loopback/LAN options were given. */
  readonly actor?: string | undefined;
  readonly privateNetwork?: boolean;
  /** `export`/`import`: the export file and the file holding its passphrase. */
  readonly exportFile?: string | undefined;
  readonly passphraseFile?: string | undefined;
}

const LOOPBACK =
  /^(@?[^@]+@|https?:\/\/)(localhost|127\.|\[?::1\]?|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/i;

export function explainFailure(error: unknown, context: FailureContext): string {
  const dir = context.dataDir ?? "the data directory";
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof SottoError ? error.code : (error as { code?: unknown })?.code;
  switch (code) {
    case "wrong_key":
      if (context.command === "import") {
        return `wrong export passphrase: the first line of ${context.passphraseFile} does not open ${context.exportFile}. Give the passphrase the export was made with.`;
      }
      if (/protected by/.test(message)) {
        return `the store in ${dir} cannot be opened with a ${context.key ?? "key"}: ${message}. Give the kind of key it was set up with.`;
      }
      return context.key === "passphrase"
        ? `wrong passphrase: it does not unlock the store in ${dir}. Try again with the passphrase given to sottod init.`
        : `wrong key: the ${context.key ?? "key"} does not unlock the store in ${dir}. Give the one it was set up with.`;
    case "locked":
      return `the store in ${dir} is in use by another process (another sottod?): stop it first; a store is opened by one process at a time.`;
    case "key_file_permissions":
      return `${message}.`;
    case "key_missing":
      return `${message}: a key file holds at least 32 random bytes and is mode 0600 (head -c 32 /dev/urandom > FILE; chmod 600 FILE).`;
    case "no_key":
    case "passphrase_mismatch":
      return `${message}: run the command again and type the passphrase (or pipe it on stdin).`;
    case "not_initialized":
    case "not_found":
      return `${message}. (sottod init --data ${dir} ... sets up an account.)`;
    case "exists":
      return context.command === "import"
        ? `${message}: import writes a new store; give an empty --data directory (or move the old store away).`
        : `a store already exists in ${dir}: sottod run --data ${dir} uses it. If an earlier init was cut short, move ${dir}/sotto.db away and run init again.`;
    case "bad_token":
      return `${message}: issue a new token on the server (sotto-server add-user/issue-token) and run init again.`;
    case "actor_not_found":
    case "server_unavailable": {
      const hint =
        context.actor !== undefined && !context.privateNetwork && LOOPBACK.test(context.actor)
          ? " A server on loopback or a LAN needs --plain-http-webfinger --allow-private-address."
          : " Check the handle and that the server is reachable, then run the command again.";
      return `${message}.${hint}`;
    }
    case "bind_failed":
      return `cannot serve the local API: ${message}. Another program (another sottod?) uses that port: stop it, or pick another with --api-port (0 = any free port).`;
    case "newer_schema":
      return `${message}: this store was written by a newer sottod; run that version (or restore a backup).`;
    case "corrupt":
    case "tampered":
      return `${message}: the store in ${dir} cannot be trusted; restore it from a backup (docs/operations.md).`;
    case "io":
      return `${message}: check the disk and the permissions of ${dir}.`;
    case "ENOENT":
    case "EACCES":
    case "EISDIR":
      return `${message}: check the path and its permissions.`;
    default:
      return `${message}${code === undefined ? "" : ` (${String(code)})`}.`;
  }
}
