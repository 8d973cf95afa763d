// The web UI (apps/web), served by sottod on its API port from the files on disk: each request reads its file
// and forgets it, so an idle daemon holds nothing of the UI in memory. The page reaches the daemon only through
// the public API (WebSocket on this same origin); a strict Content-Security-Policy keeps everything else out.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

export interface WebOptions {
  /** The built UI (apps/web/dist/www): index.html and its assets. */
  readonly dir: string;
}

/** apps/web/dist/www beside the daemon, as sottod runs it from apps/daemon/dist/bin/sottod.js. */
export function defaultWebDir(): string {
  return fileURLToPath(new URL("../../../web/dist/www/", import.meta.url));
}

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * No inline script or style, nothing from another origin; the WebSocket only to this daemon (`host` was checked
 * against the loopback names of our port); images from this origin or the page's own blob: URLs (attachments).
 */
export function contentSecurityPolicy(host: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob:",
    `connect-src ws://${host}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Answers GET/HEAD for the UI's files; the WebSocket upgrade on the same port is the API's. */
export function webListener(options: WebOptions, hosts: () => ReadonlySet<string>): RequestListener {
  const root = normalize(options.dir + sep);
  return (request, response) => {
    serve(root, hosts(), request, response).catch(() => {
      if (!response.headersSent) plain(response, 500, "The web UI could not be read from disk.\n");
      else response.destroy();
    });
  };
}

async function serve(
  root: string,
  hosts: ReadonlySet<string>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const host = request.headers.host?.toLowerCase();
  // The same DNS-rebinding rule as the API: a page of another name must not read ours.
  if (host === undefined || !hosts.has(host)) return plain(response, 403, "Host is not this daemon.\n");
  if (request.method !== "GET" && request.method !== "HEAD") return plain(response, 405, "GET only.\n");
  const path = decodePath(request.url ?? "/");
  if (path === undefined) return plain(response, 400, "Bad path.\n");
  const file = normalize(join(root, path === "/" ? "index.html" : path));
  if (!file.startsWith(root)) return plain(response, 404, "Not found.\n");
  const info = await stat(file).catch(() => undefined);
  if (info === undefined || !info.isFile()) {
    if (path === "/") {
      return plain(
        response,
        503,
        `The web UI is not built in ${root}: run the workspace build (pnpm build).\n`,
      );
    }
    return plain(response, 404, "Not found.\n");
  }
  const type = TYPES[extname(file)] ?? "application/octet-stream";
  // index.html names the hash-free bundle: the browser always revalidates (an upgraded daemon serves its own UI),
  // and an unchanged file is a 304, so the browser keeps its copy and its compiled code cache for the bundle.
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers = { ...securityHeaders(host), "cache-control": "no-cache", etag };
  if (request.headers["if-none-match"] === etag) {
    response.writeHead(304, headers);
    response.end();
    return;
  }
  response.writeHead(200, { ...headers, "content-type": type, "content-length": info.size });
  if (request.method === "HEAD") {
    response.end();
    return;
  }
  createReadStream(file)
    .on("error", () => response.destroy())
    .pipe(response);
}

function securityHeaders(host: string): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(host),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
  };
}

function decodePath(url: string): string | undefined {
  const path = url.split(/[?#]/, 1)[0] ?? "/";
  try {
    const decoded = decodeURIComponent(path);
    return decoded.includes("\0") || !decoded.startsWith("/") ? undefined : decoded;
  } catch {
    return undefined;
  }
}

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'",
  });
  response.end(text);
}
