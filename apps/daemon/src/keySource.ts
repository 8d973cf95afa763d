import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { SottoError } from "@sotto/core";

/** Where the store key comes from; mirrors @sotto/storage's StoreKey. */
export type KeySource =
  | { readonly passphrase: string }
  | { readonly keyFile: string }
  | { readonly credential: string };

export class KeySourceError extends SottoError<"no_key" | "passphrase_mismatch"> {}

/**
 * The store key from the command line: `--key-file PATH`, `--credential NAME` (a systemd credential, e.g.
 * from `LoadCredentialEncrypted=`), or else a passphrase read from the terminal without echo (or the first
 * line of stdin when it is not a terminal, for scripts). `confirm` asks twice, for `init`.
 */
export async function keySourceFromArgs(
  args: { keyFile?: string; credential?: string },
  options: {
    confirm?: boolean;
    input?: NodeJS.ReadableStream & { isTTY?: boolean };
    output?: NodeJS.WritableStream;
  } = {},
): Promise<KeySource> {
  if (args.keyFile !== undefined) return { keyFile: args.keyFile };
  if (args.credential !== undefined) return { credential: args.credential };
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stderr;
  const passphrase = await readSecretLine(input, output, "Passphrase: ");
  if (passphrase === "") throw new KeySourceError("no_key", "an empty passphrase is not a key");
  if (options.confirm && input.isTTY) {
    const again = await readSecretLine(input, output, "Passphrase again: ");
    if (again !== passphrase) throw new KeySourceError("passphrase_mismatch", "the passphrases differ");
  }
  return { passphrase };
}

/** Reads one line; on a terminal the typed characters are not echoed. */
function readSecretLine(
  input: NodeJS.ReadableStream & { isTTY?: boolean },
  output: NodeJS.WritableStream,
  prompt: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let muted = false;
    const sink = new Writable({
      write(chunk, _encoding, done) {
        if (!muted) output.write(chunk);
        done();
      },
    });
    const rl = createInterface({ input, output: sink, terminal: input.isTTY === true });
    let answered = false;
    // A prompt is for a person at a terminal; a script piping the passphrase gets nothing on its stderr.
    rl.question(input.isTTY === true ? prompt : "", (line) => {
      answered = true;
      if (input.isTTY) output.write("\n");
      rl.close();
      resolve(line);
    });
    muted = input.isTTY === true;
    rl.on("close", () => {
      if (!answered) reject(new KeySourceError("no_key", "no passphrase given (input closed)"));
    });
  });
}
