import { describe, expect, it } from "vitest";
import { createCredentials } from "./credentials.js";

describe("login codes and sessions", () => {
  const token = "t".repeat(43);

  it("accepts the token; a code works once and gives a session that works in place of the token", () => {
    const credentials = createCredentials(token);
    expect(credentials.accepts(token)).toBe(true);
    expect(credentials.accepts(`${token}x`)).toBe(false);
    const { code } = credentials.issueCode();
    const session = credentials.trade(code) as string;
    expect(session).toMatch(/^s1\./);
    expect(credentials.accepts(session)).toBe(true);
    expect(credentials.trade(code)).toBeUndefined();
    expect(credentials.trade("not-a-code")).toBeUndefined();
  });

  it("refuses an expired code, an expired session, a forged one, and sessions of another token", () => {
    let now = 1_000_000;
    const credentials = createCredentials(token, { codeTtlMs: 1000, sessionTtlMs: 5000, now: () => now });
    const late = credentials.issueCode().code;
    now += 1001;
    expect(credentials.trade(late)).toBeUndefined();
    const session = credentials.trade(credentials.issueCode().code) as string;
    expect(credentials.accepts(session)).toBe(true);
    const [prefix, expiry, nonce, tag] = session.split(".") as [string, string, string, string];
    const later = (Number.parseInt(expiry, 36) + 10_000).toString(36);
    expect(credentials.accepts([prefix, later, nonce, tag].join("."))).toBe(false);
    expect(credentials.accepts(`${session}.x`)).toBe(false);
    expect(createCredentials("another token").accepts(session)).toBe(false);
    now += 5001;
    expect(credentials.accepts(session)).toBe(false);
  });

  it("keeps a bounded number of waiting codes, dropping the oldest", () => {
    const credentials = createCredentials(token, { maxCodes: 2 });
    const first = credentials.issueCode().code;
    const second = credentials.issueCode().code;
    const third = credentials.issueCode().code;
    expect(credentials.trade(first)).toBeUndefined();
    expect(credentials.trade(second)).toBeDefined();
    expect(credentials.trade(third)).toBeDefined();
  });
});
