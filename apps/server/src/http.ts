import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { jsonBodyOf } from "@sotto/fedify";
import { ServerError } from "./errors.js";

/** What the routes read of a request: one from node:http (`fromIncoming`), or one made in-process (inProcess.ts). */
export interface RouteRequest {
  readonly method: string;
  /** The path and query. */
  readonly url: string;
  /** Lower-case names. */
  readonly headers: IncomingHttpHeaders;
  /** The body; more than `limit` bytes are refused (413). */
  body(limit: number): Promise<Uint8Array>;
}

export function fromIncoming(req: IncomingMessage): RouteRequest {
  return {
    method: req.method ?? "GET",
    url: req.url ?? "/",
    headers: req.headers,
    body: (limit) => readBody(req, limit),
  };
}

export function bodyTooLarge(limit: number): ServerError {
  return new ServerError("body_too_large", `the body exceeds ${limit} bytes`, 413);
}

/** Reads a request body, refusing more than `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
      reject(bodyTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(bodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * A Fetch API request for a node:http request, resolved against the server's canonical origin: its head only
 * (the routes read bodies themselves and hand them over where one is needed, as to signature verification).
 */
export function toRequest(req: Omit<RouteRequest, "body">, origin: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return new Request(new URL(req.url, origin), { method: req.method, headers });
}

/**
 * Writes a Fetch API response: Server-Sent Events streamed (they stay open until either side ends), any other
 * body whole (a stream bridge per response cost more than the write).
 */
export async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (response.body === null) {
    res.writeHead(response.status, headers).end();
    return;
  }
  if (!(headers["content-type"] ?? "").startsWith("text/event-stream")) {
    const whole = jsonBodyOf(response) ?? Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, { ...headers, "content-length": String(whole.length) }).end(whole);
    return;
  }
  res.writeHead(response.status, headers);
  const body = Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
  res.on("close", () => body.destroy());
  body.on("error", () => res.destroy());
  body.pipe(res);
}
