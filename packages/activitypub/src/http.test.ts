import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ActivityPubError } from "./errors.js";
import { Http } from "./http.js";
import { parseRetryAfter } from "./retry.js";

type Handler = (req: IncomingMessage, res: ServerResponse, count: number) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A real HTTP server on loopback answering with `handler`; counts the requests. */
async function serve(handler: Handler): Promise<{ url: string; count: () => number }> {
  let count = 0;
  const server = createServer((req, res) => handler(req, res, ++count));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/thing`, count: () => count };
}

const http = new Http({
  allowPrivateAddress: true,
  retry: { baseDelayMs: 1, maxDelayMs: 5 },
  timeoutMs: 2_000,
});

async function failure(promise: Promise<unknown>): Promise<ActivityPubError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ActivityPubError);
  return error as ActivityPubError;
}

describe("Http", () => {
  it("retries a GET through 500s and returns the JSON", async () => {
    const server = await serve((_req, res, n) => {
      if (n < 3) res.writeHead(500).end("boom");
      else res.writeHead(200, { "content-type": "application/activity+json" }).end('{"id":"x"}');
    });
    const response = await http.json(server.url);
    expect(response.body).toEqual({ id: "x" });
    expect(server.count()).toBe(3);
  });

  it("gives up after the configured retries with server_error", async () => {
    const server = await serve((_req, res) => res.writeHead(502).end());
    const error = await failure(
      new Http({ allowPrivateAddress: true, retry: { retries: 2, baseDelayMs: 1 } }).json(server.url),
    );
    expect(error.code).toBe("server_error");
    expect(error.status).toBe(502);
    expect(server.count()).toBe(3);
  });

  it("waits out a short Retry-After on 429 and then succeeds", async () => {
    const server = await serve((_req, res, n) => {
      if (n === 1) res.writeHead(429, { "retry-after": "0" }).end();
      else res.writeHead(200).end("{}");
    });
    expect((await http.json(server.url)).body).toEqual({});
    expect(server.count()).toBe(2);
  });

  it("hands a long Retry-After to the caller instead of sleeping", async () => {
    const server = await serve((_req, res) => res.writeHead(429, { "retry-after": "120" }).end());
    const error = await failure(http.json(server.url));
    expect(error.code).toBe("rate_limited");
    expect(error.retryAfterMs).toBe(120_000);
    expect(server.count()).toBe(1);
  });

  it("does not retry a POST that failed with 500 (it may have been stored)", async () => {
    const server = await serve((_req, res) => res.writeHead(500).end());
    const error = await failure(http.json(server.url, { method: "POST", json: { type: "Create" } }));
    expect(error.code).toBe("server_error");
    expect(server.count()).toBe(1);
  });

  it("sends the bearer token and the activity JSON on POST", async () => {
    let seen: { auth?: string; type?: string; body?: string } = {};
    const server = await serve((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        seen = { auth: req.headers.authorization, type: req.headers["content-type"], body };
        res.writeHead(201, { location: "/a/1" }).end();
      });
    });
    const response = await http.json(server.url, { method: "POST", token: "s3cret", json: { type: "Note" } });
    expect(response.status).toBe(201);
    expect(response.body).toBeNull();
    expect(seen).toEqual({
      auth: "Bearer s3cret",
      type: "application/activity+json",
      body: '{"type":"Note"}',
    });
  });

  it.each([
    [401, "unauthorized"],
    [403, "unauthorized"],
    [404, "not_found"],
    [410, "gone"],
    [400, "client_error"],
  ] as const)("maps %i to %s without retrying", async (status, code) => {
    const server = await serve((_req, res) =>
      res
        .writeHead(status, { "content-type": "application/json" })
        .end('{"error":"nope","message":"no way"}'),
    );
    const error = await failure(http.json(server.url));
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.serverCode).toBe("nope");
    expect(server.count()).toBe(1);
  });

  it("reports a 200 with garbage as invalid_response", async () => {
    const server = await serve((_req, res) => res.writeHead(200).end("<html>not json"));
    expect((await failure(http.json(server.url))).code).toBe("invalid_response");
  });

  it("reports a refused connection as network after retrying", async () => {
    const server = await serve((_req, res) => res.end());
    const url = server.url;
    await new Promise((r) => servers.pop()?.close(r));
    const error = await failure(http.json(url));
    expect(error.code).toBe("network");
    expect(error.retryable).toBe(true);
  });

  it("times out a server that never answers", async () => {
    const server = await serve(() => {});
    const error = await failure(
      new Http({ allowPrivateAddress: true, timeoutMs: 2_000, retry: { retries: 1, baseDelayMs: 1 } }).json(
        server.url,
      ),
    );
    expect(error.code).toBe("network");
    expect(error.message).toContain("timed out");
    expect(server.count()).toBe(2);
  });

  it("refuses private addresses unless allowed", async () => {
    const server = await serve((_req, res) => res.end("{}"));
    const error = await failure(new Http().json(server.url));
    expect(error.code).toBe("invalid_url");
    expect(server.count()).toBe(0);
  });

  it("refuses bodies over the size limit", async () => {
    const server = await serve((_req, res) => res.end(JSON.stringify({ pad: "x".repeat(5000) })));
    const error = await failure(new Http({ allowPrivateAddress: true, maxBodyBytes: 1000 }).json(server.url));
    expect(error.code).toBe("invalid_response");
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates, and ignores nonsense", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
