// What a delivery looks like on the wire through the patched Fedify (patches/@fedify__fedify@2.3.6.patch):
// signed requests go over node:http instead of fetch, which added its own User-Agent. Peers (and the proxies in
// front of them) that refuse requests without one must still get one.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { createFederation, MemoryKvStore } from "@fedify/fedify";
import { generateCryptoKeyPair } from "@fedify/fedify/sig";
import { Create, Note, Person } from "@fedify/vocab";
import { getUserAgent } from "@fedify/vocab-runtime";
import { afterAll, describe, expect, it } from "vitest";

describe("deliveries through the patched Fedify transport", () => {
  const received: { method?: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const inbox = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({
        method: req.method,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(202).end();
    });
  });
  afterAll(() => new Promise<void>((resolve) => inbox.close(() => resolve())));

  it("carry Fedify's User-Agent, the signature and the body as signed", async () => {
    await new Promise<void>((resolve) => inbox.listen(0, "127.0.0.1", resolve));
    const inboxUrl = new URL(`http://127.0.0.1:${(inbox.address() as AddressInfo).port}/inbox`);
    const keys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
    const federation = createFederation<void>({ kv: new MemoryKvStore() });
    federation
      .setActorDispatcher(
        "/users/{identifier}",
        (ctx, identifier) => new Person({ id: ctx.getActorUri(identifier), preferredUsername: identifier }),
      )
      .setKeyPairsDispatcher(() => [keys]);
    const ctx = federation.createContext(new URL("https://sender.example"), undefined);
    const actor = ctx.getActorUri("alice");

    await ctx.sendActivity(
      { identifier: "alice" },
      { id: new URL("https://receiver.example/users/bob"), inboxId: inboxUrl },
      new Create({
        id: new URL("https://sender.example/activities/1"),
        actor,
        object: new Note({ id: new URL("https://sender.example/notes/1"), content: "hello" }),
      }),
    );

    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request?.method).toBe("POST");
    expect(request?.headers["user-agent"]).toBe(getUserAgent());
    expect(request?.headers["content-type"]).toBe("application/activity+json");
    expect(request?.headers.signature ?? request?.headers["signature-input"]).toBeDefined();
    expect(JSON.parse(request?.body ?? "{}")).toMatchObject({
      id: "https://sender.example/activities/1",
      actor: actor.href,
    });
  });
});
