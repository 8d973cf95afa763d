export const ACTIVITY_JSON = "application/activity+json";

/** The bytes of each response `jsonBytesResponse` made, for `jsonBodyOf`. */
const bodies = new WeakMap<Response, Uint8Array>();

export function jsonResponse(body: unknown, status = 200, type = ACTIVITY_JSON): Response {
  return jsonBytesResponse(Buffer.from(JSON.stringify(body)), status, type);
}

/** A response of JSON serialised already (a page spliced from stored items); `jsonBodyOf` reads it too. */
export function jsonBytesResponse(bytes: Uint8Array, status = 200, type = ACTIVITY_JSON): Response {
  // A stream that hands over the bytes only when read: a body given as bytes or a string is copied or
  // encoded at once, which `jsonBodyOf`'s readers never need.
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  const response = new Response(stream, { status, headers: { "content-type": type, vary: "accept" } });
  bodies.set(response, bytes);
  return response;
}

/**
 * The body of a response `jsonResponse` or `jsonBytesResponse` made, without reading its stream (undefined for
 * any other response): a server writing it to node:http skips the Fetch API's body machinery, which cost
 * sotto-server more than serialising a page of a collection (issue 20).
 */
export function jsonBodyOf(response: Response): Uint8Array | undefined {
  return response.bodyUsed ? undefined : bodies.get(response);
}

/** The JSON error body every refusal carries: `{"error": "<code>", "message": "..."}`. */
export function errorResponse(status: number, error: string, message: string): Response {
  return jsonResponse({ error, message }, status, "application/json");
}
