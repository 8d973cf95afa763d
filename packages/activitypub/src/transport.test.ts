import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ActivityPubError } from "./errors.js";
import { nodeFetch } from "./transport.js";

interface Seen {
  readonly method?: string;
  readonly url?: string;
  readonly authorization?: string;
  readonly body: string;
}

const servers: Server[] = [];
afterEach(async () => {
  const closing = servers.splice(0);
  for (const s of closing) s.closeAllConnections();
  await Promise.all(closing.map((s) => new Promise((r) => s.close(r))));
});

/** A real server on loopback; `seen` records each request as it arrived. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body });
      handler(req, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const fetch = nodeFetch({ maxBodyBytes: 1024, guard: async () => {} });

describe("nodeFetch", () => {
  it("follows redirects, keeping the token on the same origin only, and reports the final URL", async () => {
    const other = await serve((_req, res) =>
      res.writeHead(200, { "content-type": "text/plain" }).end("there"),
    );
    const here = await serve((req, res) => {
      if (req.url === "/a") res.writeHead(302, { location: "/b" }).end();
      else res.writeHead(307, { location: `${other.origin}/c` }).end();
    });
    const response = await fetch(`${here.origin}/a`, { headers: { authorization: "Bearer t" } });
    expect([response.status, await response.text(), response.url]).toEqual([
      200,
      "there",
      `${other.origin}/c`,
    ]);
    expect(here.seen.map((s) => [s.url, s.authorization])).toEqual([
      ["/a", "Bearer t"],
      ["/b", "Bearer t"],
    ]);
    expect(other.seen[0]?.authorization).toBeUndefined();
  });

  it("goes on as a GET without the body after a 303, and keeps POST and body through a 307", async () => {
    const here = await serve((req, res) => {
      if (req.url === "/post-303") res.writeHead(303, { location: "/done" }).end();
      else if (req.url === "/post-307") res.writeHead(307, { location: "/done" }).end();
      else res.writeHead(201).end("{}");
    });
    for (const path of ["/post-303", "/post-307"]) {
      const response = await fetch(`${here.origin}${path}`, { method: "POST", body: '{"x":1}' });
      expect(response.status).toBe(201);
    }
    expect(here.seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ["POST", "/post-303", '{"x":1}'],
      ["GET", "/done", ""],
      ["POST", "/post-307", '{"x":1}'],
      ["POST", "/done", '{"x":1}'],
    ]);
  });

  it("checks every redirect with the guard, and stops an endless chain", async () => {
    const here = await serve((req, res) => {
      const n = Number(req.url?.slice(1));
      res.writeHead(302, { location: `/${n + 1}` }).end();
    });
    const guarded = nodeFetch({
      maxBodyBytes: 1024,
      guard: async (url) => {
        if (url.endsWith("/3")) throw new ActivityPubError("invalid_url", `refusing ${url}`, { url });
      },
    });
    await expect(guarded(`${here.origin}/1`)).rejects.toMatchObject({ code: "invalid_url" });
    await expect(fetch(`${here.origin}/1`)).rejects.toThrow(/more than 20 redirects/);
  });

  it("refuses a body over the limit while reading it, declared or not", async () => {
    const here = await serve((req, res) => {
      if (req.url === "/declared") res.writeHead(200, { "content-length": "5000" }).end("x".repeat(5000));
      else {
        res.writeHead(200);
        for (let i = 0; i < 10; i++) res.write("x".repeat(500));
        res.end();
      }
    });
    for (const path of ["/declared", "/chunked"]) {
      await expect(fetch(`${here.origin}${path}`)).rejects.toMatchObject({ code: "invalid_response" });
    }
  });

  it("streams an event stream, which ends when the request aborts", async () => {
    const here = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: 1\n\n");
    });
    const abort = new AbortController();
    const response = await fetch(`${here.origin}/events`, { signal: abort.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: 1\n\n");
    abort.abort();
    await expect(reader.read()).rejects.toThrow();
  });
});
