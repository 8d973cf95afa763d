// The patched Fedify verifies RSASSA-PKCS1-v1_5 and Ed25519 HTTP signatures with node:crypto, synchronously
// (patches/@fedify__fedify@2.3.6.patch): the same answers as WebCrypto, without a thread-pool job and a promise
// per request.
import { generateKeyPairSync, sign, type webcrypto } from "node:crypto";
import { generateCryptoKeyPair, signRequest, verifyRequest } from "@fedify/fedify/sig";
import { CryptographicKey } from "@fedify/vocab";
import { afterEach, describe, expect, it, vi } from "vitest";

const owner = new URL("https://sender.example/users/alice");
const keyId = new URL("https://sender.example/users/alice#main-key");
const inbox = "https://receiver.example/users/bob/inbox";

/** A document loader that knows one key: `publicKey` as `keyId`. */
async function loaderFor(publicKey: webcrypto.CryptoKey) {
  const document = await new CryptographicKey({ id: keyId, owner, publicKey }).toJsonLd();
  return async (url: string) => {
    if (url !== keyId.href) throw new Error(`no document at ${url}`);
    return { contextUrl: null, documentUrl: url, document };
  };
}

const post = () =>
  new Request(inbox, {
    method: "POST",
    headers: { "content-type": "application/activity+json" },
    body: JSON.stringify({ type: "Create", actor: owner.href }),
  });

/** An RFC 9421 Ed25519 signature made by hand (Fedify signs with RSA only). */
function signedEd25519(privateKey: Parameters<typeof sign>[2]): Request {
  const params = `alg="ed25519";keyid="${keyId.href}";created=${Math.floor(Date.now() / 1000)}`;
  const base = `"@method": POST\n"@target-uri": ${inbox}\n"@signature-params": ("@method" "@target-uri");${params}`;
  const signature = sign(null, Buffer.from(base), privateKey).toString("base64");
  const request = post();
  request.headers.set("signature-input", `sig1=("@method" "@target-uri");${params}`);
  request.headers.set("signature", `sig1=:${signature}:`);
  return request;
}

describe("HTTP signatures verified by the patched Fedify", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  for (const spec of ["rfc9421", "draft-cavage-http-signatures-12"] as const) {
    it(`accepts an RSA signature (${spec}) without WebCrypto, and refuses it altered`, async () => {
      const keys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
      const documentLoader = await loaderFor(keys.publicKey);
      const signed = await signRequest(post(), keys.privateKey, keyId, { spec });
      const subtleVerify = vi.spyOn(crypto.subtle, "verify");

      const key = await verifyRequest(signed.clone(), { documentLoader });
      expect(key?.id?.href).toBe(keyId.href);
      expect(subtleVerify).not.toHaveBeenCalled();

      // Both specs end the Signature header with the signature's base64, its padding and a delimiter.
      const altered = signed.clone();
      const value = altered.headers.get("signature") as string;
      const at = value.length - 6;
      altered.headers.set(
        "signature",
        value.slice(0, at) + (value[at] === "A" ? "B" : "A") + value.slice(at + 1),
      );
      expect(await verifyRequest(altered, { documentLoader })).toBeNull();
    });
  }

  for (const spec of ["rfc9421", "draft-cavage-http-signatures-12"] as const) {
    it(`checks the digest (${spec}) against a body the caller read already, not the request's`, async () => {
      const keys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
      const documentLoader = await loaderFor(keys.publicKey);
      const signed = await signRequest(post(), keys.privateKey, keyId, { spec });
      const body = new Uint8Array(await signed.clone().arrayBuffer());
      // The head alone, as sotto-server's inbox builds it: the body travels beside it.
      const head = () => new Request(signed.url, { method: "POST", headers: signed.headers });
      expect((await verifyRequest(head(), { documentLoader, body }))?.id?.href).toBe(keyId.href);
      const other = new TextEncoder().encode(JSON.stringify({ type: "Delete", actor: owner.href }));
      expect(await verifyRequest(head(), { documentLoader, body: other })).toBeNull();
    });
  }

  it("accepts an RFC 9421 Ed25519 signature from its key only", async () => {
    const ed = generateKeyPairSync("ed25519");
    const other = generateKeyPairSync("ed25519");
    const publicKey = ed.publicKey.toCryptoKey("Ed25519", true, ["verify"]);
    const documentLoader = await loaderFor(publicKey);
    const subtleVerify = vi.spyOn(crypto.subtle, "verify");

    const key = await verifyRequest(signedEd25519(ed.privateKey), { documentLoader });
    expect(key?.id?.href).toBe(keyId.href);
    expect(subtleVerify).not.toHaveBeenCalled();
    expect(await verifyRequest(signedEd25519(other.privateKey), { documentLoader })).toBeNull();
  });

  it("leaves a key of another algorithm to WebCrypto, which refuses it", async () => {
    // An Ed25519 key named by an RSA signature: WebCrypto's answer (an error, so no key) stays the answer.
    const rsa = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
    const ed = generateKeyPairSync("ed25519").publicKey.toCryptoKey("Ed25519", true, ["verify"]);
    const documentLoader = await loaderFor(ed);
    const signed = await signRequest(post(), rsa.privateKey, keyId, { spec: "rfc9421" });
    expect(await verifyRequest(signed, { documentLoader })).toBeNull();
  });
});
