import { randomBytes } from "node:crypto";
import { chmod, open, readFile, writeFile } from "node:fs/promises";

/** Writes `text` to a new 0600 file; false when the file already exists (it is kept as it is). */
export async function createSecretFile(path: string, text: string): Promise<boolean> {
  try {
    const file = await open(path, "wx", 0o600);
    await file.writeFile(text);
    await file.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** Writes `text` to a 0600 file, replacing what was there. */
export async function writeSecretFile(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

/**
 * The demo's store key: 32 random bytes, base64url text so the file can be looked at. sottod reads it with
 * `--key-file`; whoever has the file can open the store, which is why real setups keep it elsewhere (a
 * systemd credential, or a passphrase typed at `sottod init`).
 */
export async function ensureKeyFile(path: string): Promise<boolean> {
  return createSecretFile(path, `${randomBytes(32).toString("base64url")}\n`);
}

export async function readSecretFile(path: string): Promise<string> {
  return (await readFile(path, "utf8")).trim();
}
