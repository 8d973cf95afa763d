// A minimal C2S client for tests: plain fetch, as any ActivityPub client would do.
export const AP = "application/activity+json";

export async function post(url: string, token: string | undefined, body: unknown): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": AP, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export async function get(url: string, token?: string, accept = AP): Promise<Response> {
  return fetch(url, {
    headers: { accept, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
  });
}

export async function getJson(url: string, token?: string): Promise<Record<string, unknown>> {
  const response = await get(url, token);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

/** Polls `check` until it returns a value (bounded: `tries` × `intervalMs`). */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  tries = 100,
  intervalMs = 100,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error("condition not met in time");
}
