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

/** Every item id of an owner-only log, oldest first, read forward page by page. */
export async function collectionIds(collection: string, token: string): Promise<string[]> {
  const ids: string[] = [];
  let url: string | undefined = `${collection}?after=&limit=200`;
  while (url !== undefined) {
    const page = await getJson(url, token);
    ids.push(...(page.orderedItems as { id: string }[]).map((i) => i.id));
    url = page.next as string | undefined;
  }
  return ids;
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

export interface SseEvent {
  readonly id: string;
  readonly data: unknown;
}

/** Opens a Server-Sent Events stream and collects events; `next(n)` waits (bounded) until n have arrived. */
export async function openEvents(url: string, token: string, lastEventId?: string) {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: {
      accept: "text/event-stream",
      authorization: `Bearer ${token}`,
      ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId }),
    },
    signal: abort.signal,
  });
  const events: SseEvent[] = [];
  const reading = (async () => {
    if (response.body === null) return;
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id !== undefined && data !== undefined) events.push({ id, data: JSON.parse(data) });
      }
    }
  })().catch(() => undefined);
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    events,
    next: (n: number) => eventually(async () => (events.length >= n ? events.slice(0, n) : undefined)),
    close: async () => {
      abort.abort();
      await reading;
    },
  };
}
