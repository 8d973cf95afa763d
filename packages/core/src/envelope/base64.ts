// Strict base64 for MLS content: Buffer's own decoder silently skips garbage, which would turn a typo into
// different MLS bytes instead of an error. Whitespace (line-wrapped base64) and missing padding are tolerated;
// the URL-safe alphabet is accepted too.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** Padded standard base64 with no whitespace, what peers send: one scan, none of the rewriting below. */
const PLAIN_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 === 0 && PLAIN_BASE64.test(text)) return new Uint8Array(Buffer.from(text, "base64"));
  const compact = text.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  if (!BASE64.test(compact)) return undefined;
  return new Uint8Array(Buffer.from(compact, "base64"));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
