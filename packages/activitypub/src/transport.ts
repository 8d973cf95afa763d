import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { ActivityPubError } from "./errors.js";

export interface TransportOptions {
  /** A body longer than this is refused (`invalid_response`) while it is read, before it is all in memory. */
  readonly maxBodyBytes: number;
  /** Checked for every URL requested, the first and each redirect's (the private-address guard). */
  readonly guard: (url: string) => Promise<void>;
}

const MAX_REDIRECTS = 20;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([204, 205, 304]);
const agents = {
  "http:": new HttpAgent({ keepAlive: true }),
  "https:": new HttpsAgent({ keepAlive: true }),
} as const;

/**
 * `fetch` over node:http(s) with keep-alive agents, for the requests `Http` makes. undici's `fetch` cost 1.5-1.8 ms
 * of CPU per 1 KB POST on loopback here against 0.55-0.7 ms for `http.request` (its Request, Headers and WHATWG
 * stream copies; patches/README.md measured the same for Fedify's deliveries). Bodies are read whole (every
 * caller reads them whole), except event streams, which stream. Redirects are followed as fetch's `follow` does
 * (303, and 301/302 after a POST, go on as a GET without the body; `authorization` is not sent to another origin),
 * with every hop through `guard`. No `accept-encoding` is sent, so answers are not compressed.
 */
export function nodeFetch(options: TransportOptions): typeof globalThis.fetch {
  return async (input, init = {}) => {
    if (input instanceof Request) throw new TypeError("nodeFetch takes a URL and options, not a Request");
    let url = new URL(input);
    let method = (init.method ?? "GET").toUpperCase();
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    let body = bodyBytes(init.body);
    for (let hop = 0; ; hop++) {
      const res = await send(url, method, headers, body, init.signal ?? undefined);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (!REDIRECTS.has(status) || location === undefined || init.redirect === "manual") {
        return respond(res, url, method, options.maxBodyBytes);
      }
      res.resume();
      if (init.redirect === "error") throw new TypeError(`redirected from ${url.href}`);
      if (hop >= MAX_REDIRECTS) throw new TypeError(`more than ${MAX_REDIRECTS} redirects from ${url.href}`);
      const next = new URL(location, url);
      if (next.protocol !== "http:" && next.protocol !== "https:") {
        throw new TypeError(`redirected to a ${next.protocol} URL`);
      }
      await options.guard(next.href);
      if (status === 303 || ((status === 301 || status === 302) && method === "POST")) {
        method = "GET";
        body = undefined;
        delete headers["content-type"];
      }
      if (next.origin !== url.origin) delete headers.authorization;
      url = next;
    }
  };
}

function bodyBytes(body: RequestInit["body"]): Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof Uint8Array) return body;
  throw new TypeError("nodeFetch sends string or byte bodies only");
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Uint8Array | undefined,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = request(url, {
      method,
      headers: body === undefined ? headers : { ...headers, "content-length": String(body.byteLength) },
      agent: agents[url.protocol as keyof typeof agents],
      ...(signal ? { signal } : {}),
    });
    req.on("response", resolve);
    req.on("error", reject);
    req.end(body);
  });
}

async function respond(
  res: IncomingMessage,
  url: URL,
  method: string,
  maxBodyBytes: number,
): Promise<Response> {
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    headers.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
  }
  const status = res.statusCode ?? 0;
  const init = { status, statusText: res.statusMessage ?? "", headers };
  let response: Response;
  if (NULL_BODY.has(status) || method === "HEAD") {
    res.resume();
    response = new Response(null, init);
  } else if ((headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    response = new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, init);
  } else {
    response = new Response(oneChunk(await readWhole(res, url, status, maxBodyBytes)), init);
  }
  // fetch's `url` is where the answer came from, after redirects; a constructed Response has none.
  Object.defineProperty(response, "url", { value: url.href });
  return response;
}

/** The bytes as a stream of one chunk: a Response built on the bytes themselves copies them (a page, each read). */
function oneChunk(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

function readWhole(res: IncomingMessage, url: URL, status: number, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () =>
      new ActivityPubError("invalid_response", `response from ${url.href} is too large`, {
        url: url.href,
        status,
      });
    if (Number(res.headers["content-length"] ?? 0) > limit) {
      res.destroy();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        res.destroy();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    res.on("end", () => resolve(Buffer.concat(chunks)));
    res.on("error", reject);
  });
}
