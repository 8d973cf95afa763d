// The bearer token lives in a file only the daemon's user can read (0600). Whoever can read it may use the API.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ApiServerError } from "./errors.js";

export const TOKEN_FILE = "api-token";

/** Reads the token from `<stateDir>/api-token`, creating it (0600, 256 random bits) on first use. */
export async function loadOrCreateToken(stateDir: string): Promise<string> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, TOKEN_FILE);
  try {
    const file = await open(path, "wx", 0o600);
    const token = randomBytes(32).toString("base64url");
    await file.writeFile(`${token}\n`);
    await file.close();
    return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return readToken(path);
}

/** Reads a token file, refusing one that group or others could read. */
export async function readToken(path: string): Promise<string> {
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) {
    throw new ApiServerError(
      "token_file_insecure",
      `${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  const token = (await readFile(path, "utf8")).trim();
  if (token.length === 0) throw new ApiServerError("token_file_insecure", `${path} is empty`);
  return token;
}

/** Constant-time comparison, so response timing does not leak how much of a guess was right. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
