// The web UI's serving on the API port, against a real API server: files from disk with a strict CSP, the
// DNS-rebinding rule, no way out of the directory, and the login flow over the WebSocket from the page's origin.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SottoClient } from "@sotto/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handshakeStatus, openSocket, request, startTestApi, type TestApi } from "./api/test-support.js";

function get(port: number, path: string, host = `127.0.0.1:${port}`, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, path, headers: { ...headers, host } }, (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on("error", reject);
      req.end();
    },
  );
}

describe("the web UI on the API port", () => {
  let api: TestApi;
  let web: string;

  beforeAll(async () => {
    web = mkdtempSync(join(tmpdir(), "sotto-web-dir-"));
    mkdirSync(join(web, "assets"));
    writeFileSync(join(web, "index.html"), "<!doctype html><title>t</title>");
    writeFileSync(join(web, "app.js"), "export {};");
    api = await startTestApi({ web: { dir: web } });
  });

  afterAll(async () => {
    await api.close();
    rmSync(web, { recursive: true, force: true });
  });

  it("serves index.html and assets with their types and a strict Content-Security-Policy", async () => {
    const { port } = api.server;
    expect(api.server.webUrl).toBe(`http://127.0.0.1:${port}/`);
    const index = await get(port, "/");
    expect(index.status).toBe(200);
    expect(index.headers["content-type"]).toBe("text/html; charset=utf-8");
    const csp = String(index.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src ws://127.0.0.1:${port}`);
    expect(csp).not.toMatch(/unsafe|\*|https?:/);
    expect(index.headers["x-content-type-options"]).toBe("nosniff");
    expect((await get(port, "/app.js")).headers["content-type"]).toBe("text/javascript; charset=utf-8");
  });

  it("answers a revalidation of an unchanged file with 304 (the browser keeps its compiled bundle), a changed one in full", async () => {
    const { port } = api.server;
    const first = await get(port, "/app.js");
    const etag = String(first.headers.etag);
    expect(first.headers["cache-control"]).toBe("no-cache");
    const again = await get(port, "/app.js", undefined, { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe("");
    expect(String(again.headers["content-security-policy"])).toContain("script-src 'self'");
    writeFileSync(join(web, "app.js"), "export const upgraded = true;");
    const changed = await get(port, "/app.js", undefined, { "if-none-match": etag });
    expect(changed.status).toBe(200);
    expect(changed.body).toBe("export const upgraded = true;");
  });

  it("refuses other Host names, paths outside its directory, and anything but GET", async () => {
    const { port } = api.server;
    expect((await get(port, "/", `evil.example:${port}`)).status).toBe(403);
    expect((await get(port, "/../../etc/passwd")).status).toBe(404);
    expect((await get(port, "/%2e%2e/%2e%2e/etc/passwd")).status).toBe(404);
    expect((await get(port, "/assets")).status).toBe(404);
    expect((await get(port, "/%E0%A4%A")).status).toBe(400);
  });

  it("allows its own origin to connect; a login code works once and its session works as the token", async () => {
    const origin = `http://127.0.0.1:${api.server.port}`;
    expect(await handshakeStatus(api.server.url, { origin })).toBe(101);
    expect(await handshakeStatus(api.server.url, { origin: "http://127.0.0.1:1" })).toBe(403);

    const owner = await SottoClient.connect({ url: api.server.url, token: api.token });
    const login = await owner.call("auth.code");
    owner.close();
    expect(login.url).toBe(`${origin}/#code=${login.code}`);

    const page = await openSocket(api.server.url, { origin, protocols: ["sotto.v1"] });
    const traded = await request(page, 1, "auth", { code: login.code });
    const session = (traded.result as { session: string }).session;
    expect(session).toMatch(/^s1\./);
    page.close();
    const again = await openSocket(api.server.url, { origin, protocols: ["sotto.v1"] });
    expect((await request(again, 1, "auth", { code: login.code })).error).toMatchObject({
      data: { code: "unauthorized" },
    });

    const client = await SottoClient.connect({ url: api.server.url, token: session });
    expect((await client.call("status")).version).toBe("test");
    client.close();
  });
});
