// Files across the bridge. XMPP users send files as links (XEP-0363 uploads, XEP-0066 out-of-band data): the
// gateway fetches each one, within what the Fediverse side carries inline, and sends it in the message. Fediverse
// messages carry files inline: the gateway serves each at a capability URL of its media server and links it
// (XEP-0066), with its media type and size.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ActivityPubError, Http } from "@sotto/activitypub";
import { err, ok, type Result } from "@sotto/core";
import { MediaError } from "./errors.js";

/** What one message may carry inline in all (sottod's default `maxAttachmentBytes`). */
export const MAX_INLINE_BYTES = 512 * 1024;

/** A file to send or to serve. */
export interface MediaFile {
  readonly mediaType: string;
  readonly name?: string;
  readonly data: Uint8Array;
}

/** Human-readable size: "12 KiB". */
export function formatSize(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${Math.ceil(bytes / 1024)} KiB`;
}

/**
 * Fetches the files behind `urls` (http or https; private addresses only when allowed), refusing as soon as
 * they hold more than `limit` bytes in all.
 */
export async function fetchFiles(
  urls: readonly string[],
  options: { readonly allowPrivateAddress?: boolean; readonly limit?: number } = {},
): Promise<Result<MediaFile[], MediaError>> {
  const limit = options.limit ?? MAX_INLINE_BYTES;
  const http = new Http({ allowPrivateAddress: options.allowPrivateAddress ?? false, retry: { retries: 1 } });
  const files: MediaFile[] = [];
  let total = 0;
  const tooLarge = () =>
    new MediaError(
      "too_large",
      `the files are larger than ${formatSize(limit)}, the most a Fediverse message carries: send a link instead`,
    );
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return err(new MediaError("bad_url", "a file link is not a URL"));
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
      return err(new MediaError("bad_url", "a file link must be http or https"));
    }
    let opened: Awaited<ReturnType<Http["stream"]>>;
    try {
      opened = await http.stream(url, { accept: "*/*" });
    } catch (e) {
      const code = e instanceof ActivityPubError ? e.code : "network";
      return err(new MediaError("unreachable", `the file could not be fetched (${code})`, { cause: e }));
    }
    const { response, close } = opened;
    if (Number(response.headers.get("content-length") ?? 0) + total > limit) {
      close();
      return err(tooLarge());
    }
    const chunks: Uint8Array[] = [];
    const reader = response.body?.getReader();
    try {
      for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
        total += read.value.byteLength;
        if (total > limit) break;
        chunks.push(read.value);
      }
    } catch (e) {
      return err(new MediaError("unreachable", "the file could not be read", { cause: e }));
    }
    if (total > limit) {
      close();
      return err(tooLarge());
    }
    const name = decodeURIComponent(parsed.pathname.split("/").at(-1) ?? "") || undefined;
    const mediaType =
      (response.headers.get("content-type") ?? "").split(";")[0]?.trim() || "application/octet-stream";
    files.push({ mediaType, ...(name ? { name } : {}), data: Buffer.concat(chunks) });
  }
  return ok(files);
}

/** A new capability token for a served file (128 random bits). */
export function mediaToken(): string {
  return randomBytes(16).toString("base64url");
}

export interface MediaServer {
  readonly origin: string;
  /** The public URL of a file served under `token`. */
  url(token: string, name?: string): string;
  close(): Promise<void>;
}

/**
 * Serves files at `/media/<token>/<name>` (GET and HEAD), read through `open` when asked; anything else is 404.
 * The files are served as attachments of their own media type, never as pages of this origin.
 */
export async function startMediaServer(options: {
  readonly host?: string;
  readonly port?: number;
  readonly origin?: string;
  readonly open: (token: string) => MediaFile | undefined;
}): Promise<MediaServer> {
  const server = createServer((req, res) => {
    const match = /^\/media\/([A-Za-z0-9_-]{22})(?:\/[^/]*)?$/.exec(
      new URL(req.url ?? "/", "http://x").pathname,
    );
    const file =
      match && (req.method === "GET" || req.method === "HEAD") ? options.open(match[1] as string) : undefined;
    if (!file) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("no such file\n");
      return;
    }
    res.writeHead(200, {
      "content-type": file.mediaType,
      "content-length": String(file.data.byteLength),
      "content-disposition": `inline; filename*=UTF-8''${encodeURIComponent(file.name ?? "file")}`,
      "x-content-type-options": "nosniff",
      "content-security-policy": "sandbox",
      "cache-control": "private, max-age=86400",
    });
    res.end(req.method === "HEAD" ? undefined : file.data);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = (options.origin ?? `http://${options.host ?? "127.0.0.1"}:${port}`).replace(/\/$/, "");
  return {
    origin,
    url: (token, name) => `${origin}/media/${token}/${encodeURIComponent(name ?? "file")}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
