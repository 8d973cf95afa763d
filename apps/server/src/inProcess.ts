import { bodyTooLarge, type RouteRequest } from "./http.js";

/**
 * A `fetch` for the server's own origin that runs the same routes as HTTP, in the same process and without a
 * socket. sotto-xmpp's puppets (sottod engines in the gateway's process) reach their home server through it:
 * over loopback HTTP, undici's request and the server's parsing and writing cost more CPU per post than the
 * route itself. Event streams end when the request's signal aborts, as a dropped connection would end them.
 */
export function inProcessFetch(
  origin: string,
  respond: (req: RouteRequest) => Promise<Response>,
): typeof globalThis.fetch {
  const own = new URL(origin).origin;
  return async (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const url = new URL(request?.url ?? (input as string | URL));
    if (url.origin !== own) throw new TypeError(`in-process fetch: ${url.origin} is not ${own}`);
    const signal = init?.signal ?? request?.signal ?? undefined;
    signal?.throwIfAborted();
    const headers: Record<string, string> = {};
    new Headers(init?.headers ?? request?.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const source = init?.body ?? request?.body ?? null;
    const response = await respond({
      method: (init?.method ?? request?.method ?? "GET").toUpperCase(),
      url: url.pathname + url.search,
      headers,
      body: async (limit) => {
        const bytes =
          source === null
            ? new Uint8Array()
            : typeof source === "string"
              ? Buffer.from(source)
              : await new Response(source).bytes();
        if (bytes.length > limit) throw bodyTooLarge(limit);
        return bytes;
      },
    });
    const streaming = (response.headers.get("content-type") ?? "").startsWith("text/event-stream");
    if (!streaming || signal == null || response.body === null) return response;
    return new Response(response.body.pipeThrough(new TransformStream(), { signal }), {
      status: response.status,
      headers: response.headers,
    });
  };
}
