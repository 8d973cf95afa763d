export const ACTIVITY_JSON = "application/activity+json";

export function jsonResponse(body: unknown, status = 200, type = ACTIVITY_JSON): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": type, vary: "accept" } });
}

/** The JSON error body every refusal carries: `{"error": "<code>", "message": "..."}`. */
export function errorResponse(status: number, error: string, message: string): Response {
  return jsonResponse({ error, message }, status, "application/json");
}
