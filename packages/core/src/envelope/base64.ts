// Strict base64 for MLS content: Buffer's own decoder silently skips garbage, which would turn a typo into
// different MLS bytes instead of an error. Whitespace (line-wrapped base64) and missing padding are tolerated;
// the URL-safe alphabet is accepted too.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

export function decodeBase64(text: string): Uint8Array | undefined {
  // Padded base64 with no whitespace, what peers send, without a scan of its own: Buffer's decoder skips or
  // stops at anything outside the alphabet, so the length it gives says whether there was any (a regular
  // expression first cost three times the decoding).
  if (text.length % 4 === 0) {
    const decoded = Buffer.from(text, "base64");
    const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
    if (decoded.length === (text.length / 4) * 3 - padding) return new Uint8Array(decoded);
  }
  const compact = text.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  if (!BASE64.test(compact)) return undefined;
  return new Uint8Array(Buffer.from(compact, "base64"));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
