// Linking a new device to an account (issue 18; docs/security.md, "Several devices"). The existing device makes
// a one-time code; the new device, given the code, opens a small MLS group with the account's listed devices
// whose group id is derived from the code and its own key, so the existing device recognises the request and
// no one without the code can make one; both show a comparison string derived from the code and both keys.
// Everything after that (the new device's KeyPackages, history, leaves) travels inside that group.
import { createHash, createHmac, randomBytes } from "node:crypto";
import type { JsonValue } from "@sotto/storage";

/** The existing device's side of a code: kept sealed in the store's settings. */
export interface LinkCode {
  readonly code: string;
  readonly expiresAt: number;
  /** The signature key (hex) of the device that used it: a code links one device, once. */
  readonly usedBy?: string;
}

export const SETTINGS_LINK_CODES = "linkCodes";
/** How long a code stays valid (Signal's linking QR codes last about as long). */
export const LINK_CODE_TTL_MS = 10 * 60_000;
/** Codes kept (the latest), used or not, so that a reuse is told apart from a wrong code. */
const MAX_CODES = 20;

const ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789";

/** A new code: 12 characters from a 30-letter alphabet (59 bits), written in three groups. */
export function newLinkCode(): string {
  const bytes = randomBytes(12);
  const chars = [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join("");
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

/** The code as typed, without separators or case. */
export function normalizeCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, "");
}

/** The link group's id: a UUID made from HMAC(code, new device's key), so only a holder of the code makes it. */
export function linkGroupId(code: string, newDeviceKey: Uint8Array): string {
  const mac = createHmac("sha256", normalizeCode(code))
    .update("sotto device link\n")
    .update(newDeviceKey)
    .digest();
  const b = Buffer.from(mac.subarray(0, 16));
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const hex = b.toString("hex");
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * What both devices show: 5 groups of 4 digits from the code and the keys of every device in the link group
 * (sorted), so a server that put a device of its own in between shows a different string on each side.
 */
export function comparisonString(code: string, keys: readonly Uint8Array[]): string {
  const hash = createHash("sha256").update("sotto device link comparison\n").update(normalizeCode(code));
  for (const key of [...keys].map((k) => Buffer.from(k).toString("hex")).sort()) hash.update(key);
  const digest = hash.digest();
  const groups: string[] = [];
  for (let i = 0; i < 5; i++) groups.push(String(digest.readUInt32BE(i * 4) % 10_000).padStart(4, "0"));
  return groups.join(" ");
}

/** The codes as stored, the expired ones older than a day dropped. */
export function readLinkCodes(value: JsonValue | undefined, now: number): LinkCode[] {
  if (!Array.isArray(value)) return [];
  return (value as unknown as LinkCode[])
    .filter((c) => typeof c?.code === "string" && typeof c.expiresAt === "number")
    .filter((c) => c.expiresAt > now - 24 * 3600_000)
    .slice(-MAX_CODES);
}

/** Which code a link request was made with, or why it is refused. */
export function matchLinkCode(
  codes: readonly LinkCode[],
  groupId: string,
  newDeviceKey: Uint8Array,
  now: number,
):
  | { readonly ok: true; readonly code: LinkCode }
  | { readonly ok: false; readonly reason: string }
  | undefined {
  const code = codes.find((c) => linkGroupId(c.code, newDeviceKey) === groupId);
  if (code === undefined) return undefined;
  const key = Buffer.from(newDeviceKey).toString("hex");
  if (code.usedBy !== undefined && code.usedBy !== key) return { ok: false, reason: "link_code_used" };
  if (code.expiresAt <= now) return { ok: false, reason: "link_code_expired" };
  return { ok: true, code };
}

/** What the devices of one account tell each other inside a link group (application data of that group). */
export type DeviceSync =
  | {
      readonly type: "LinkRequest";
      readonly name: string;
      readonly generator: string;
      readonly keyPackages: readonly string[];
    }
  | {
      readonly type: "Approved";
      /** The new device's KeyPackages as published: base64 content -> the object id its server gave. */
      readonly published: Readonly<Record<string, string>>;
    }
  | {
      readonly type: "History";
      readonly conversation: string;
      readonly messages: readonly HistoryMessage[];
    }
  | { readonly type: "Leave"; readonly conversation: string };

export interface HistoryMessage {
  readonly id: string;
  readonly author: string;
  readonly at: number;
  readonly body: JsonValue;
}

const SYNC_TYPES = new Set(["LinkRequest", "Approved", "History", "Leave"]);

export function writeDeviceSync(sync: DeviceSync): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ "sotto:deviceSync": sync }));
}

/** A device-sync payload, or undefined for anything else (which a link group ignores). */
export function readDeviceSync(data: Uint8Array): DeviceSync | undefined {
  try {
    const json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data)) as Record<
      string,
      unknown
    >;
    const sync = json?.["sotto:deviceSync"] as { type?: unknown } | undefined;
    return sync !== undefined && typeof sync.type === "string" && SYNC_TYPES.has(sync.type)
      ? (sync as DeviceSync)
      : undefined;
  } catch {
    return undefined;
  }
}

/** History entries split into payloads of at most ~`maxBytes` of JSON each (the server limits a post's size). */
export function historyChunks(
  conversation: string,
  messages: readonly HistoryMessage[],
  maxBytes = 192 * 1024,
): DeviceSync[] {
  const chunks: DeviceSync[] = [];
  let current: HistoryMessage[] = [];
  let size = 0;
  for (const m of messages) {
    const length = JSON.stringify(m).length;
    if (current.length > 0 && size + length > maxBytes) {
      chunks.push({ type: "History", conversation, messages: current });
      current = [];
      size = 0;
    }
    current.push(m);
    size += length;
  }
  if (current.length > 0) chunks.push({ type: "History", conversation, messages: current });
  return chunks;
}
