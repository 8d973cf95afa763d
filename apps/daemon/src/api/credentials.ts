// Who may use the API: whoever holds the bearer token, and browser pages logged in with a one-time code.
// A code (from `auth.code`, printed by `sotto web`) works once and for minutes; traded with `auth({ code })`,
// it gives a session credential that works in place of the token. Sessions are an HMAC of their expiry under
// the token, so they survive a daemon restart without being stored, and end when the token is replaced.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { tokenMatches } from "./token.js";

export interface Credentials {
  /** True for the token or a session credential that has not expired. */
  accepts(given: string): boolean;
  /** A new one-time login code. */
  issueCode(): { code: string; expiresAt: Date };
  /** The session for a valid code, which is then spent; undefined for an unknown, spent or expired one. */
  trade(code: string): string | undefined;
}

export interface CredentialOptions {
  /** Default 5 minutes. */
  readonly codeTtlMs?: number;
  /** Default 30 days (a tab keeps its session in sessionStorage, gone when the tab closes). */
  readonly sessionTtlMs?: number;
  /** Codes waiting at once; the oldest go first. Default 32. */
  readonly maxCodes?: number;
  readonly now?: () => number;
}

const SESSION_PREFIX = "s1.";

export function createCredentials(token: string, options: CredentialOptions = {}): Credentials {
  const now = options.now ?? Date.now;
  const codeTtlMs = options.codeTtlMs ?? 5 * 60_000;
  const sessionTtlMs = options.sessionTtlMs ?? 30 * 24 * 3600_000;
  const maxCodes = options.maxCodes ?? 32;
  // Insertion order is expiry order: every code lives codeTtlMs.
  const codes = new Map<string, number>();
  const mac = (body: string) =>
    createHmac("sha256", token).update(`sotto-session\0${body}`).digest("base64url");
  const prune = () => {
    for (const [code, expires] of codes) {
      if (expires > now() && codes.size <= maxCodes) break;
      codes.delete(code);
    }
  };
  return {
    accepts(given) {
      if (!given.startsWith(SESSION_PREFIX)) return tokenMatches(given, token);
      const [expiry, nonce, tag, extra] = given.slice(SESSION_PREFIX.length).split(".");
      if (expiry === undefined || nonce === undefined || tag === undefined || extra !== undefined)
        return false;
      const expected = Buffer.from(mac(`${expiry}.${nonce}`));
      const actual = Buffer.from(tag);
      if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return false;
      return Number.parseInt(expiry, 36) > now();
    },
    issueCode() {
      const code = randomBytes(18).toString("base64url");
      const expires = now() + codeTtlMs;
      codes.set(code, expires);
      prune();
      return { code, expiresAt: new Date(expires) };
    },
    trade(code) {
      prune();
      const expires = codes.get(code);
      if (expires === undefined) return undefined;
      codes.delete(code);
      const body = `${(now() + sessionTtlMs).toString(36)}.${randomBytes(12).toString("base64url")}`;
      return `${SESSION_PREFIX}${body}.${mac(body)}`;
    },
  };
}
