// The in-process entry (`SottoServer.fetch`, inProcess.ts) against real servers: the same routes, answers and
// errors as over HTTP, event streams that end when the client aborts, and nothing once the server is closed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientCreate } from "./testkit/activities.js";
import { AP, collectionIds, eventually, getJson } from "./testkit/client.js";
import { messageFor } from "./testkit/mls.js";
import { startTwoServers, type TwoServers } from "./testkit/servers.js";

describe("SottoServer.fetch", () => {
  let servers: TwoServers;
  let message: string;

  beforeAll(async () => {
    servers = await startTwoServers({ bodyLimit: 16 * 1024 });
    message = await messageFor(servers.bob.actorId, servers.alice.actorId);
  });

  afterAll(async () => {
    await servers?.close();
  });

  const create = (from: string, to: string) => clientCreate(from, to, message);
  const headers = (token?: string) => ({
    "content-type": AP,
    accept: AP,
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  });

  it("posts to the outbox and reads the collections as HTTP does", async () => {
    const { a, alice, bob } = servers;
    const posted = await a.fetch(`${alice.actorId}/outbox`, {
      method: "POST",
      headers: headers(alice.token),
      body: JSON.stringify(create(alice.actorId, bob.actorId)),
    });
    expect(posted.status).toBe(201);
    const id = posted.headers.get("location") as string;
    expect(id.startsWith(a.origin)).toBe(true);
    // Read back in-process, and over HTTP: the same items.
    const page = (await (
      await a.fetch(`${alice.actorId}/outbox?after=&limit=200`, { headers: headers(alice.token) })
    ).json()) as { orderedItems: { id: string }[] };
    expect(page.orderedItems.map((i) => i.id)).toContain(id);
    expect(await collectionIds(`${alice.actorId}/outbox`, alice.token)).toEqual(
      page.orderedItems.map((i) => i.id),
    );
    // A Request object works as well as a URL with options; the actor document is Fedify's.
    const actor = (await (await a.fetch(new Request(alice.actorId, { headers: headers() }))).json()) as {
      id: string;
    };
    expect(actor.id).toBe((await getJson(alice.actorId)).id);
  });

  it("answers with the same errors: a missing token, a body over the limit", async () => {
    const { a, alice, bob } = servers;
    const unauthorized = await a.fetch(`${alice.actorId}/outbox`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify(create(alice.actorId, bob.actorId)),
    });
    expect(unauthorized.status).toBe(401);
    expect(((await unauthorized.json()) as { error: string }).error).toBe("unauthorized");
    const tooLarge = await a.fetch(`${alice.actorId}/outbox`, {
      method: "POST",
      headers: headers(alice.token),
      body: JSON.stringify({ ...create(alice.actorId, bob.actorId), padding: "x".repeat(20 * 1024) }),
    });
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { error: string }).error).toBe("body_too_large");
    await expect(a.fetch("https://elsewhere.example/users/x")).rejects.toThrow(TypeError);
  });

  it("streams what arrives, and ends the stream when the client aborts", async () => {
    const { a, alice, bob } = servers;
    const abort = new AbortController();
    const response = await a.fetch(`${alice.actorId}/inbox`, {
      headers: { accept: "text/event-stream", authorization: `Bearer ${alice.token}` },
      signal: abort.signal,
    });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    let text = "";
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of response.body ?? []) text += decoder.decode(chunk, { stream: true });
    })().then(
      () => "ended",
      () => "aborted",
    );
    // bob's post reaches alice over federation (HTTP between the servers), then her in-process stream.
    const sent = await servers.b.fetch(`${bob.actorId}/outbox`, {
      method: "POST",
      headers: headers(bob.token),
      body: JSON.stringify(create(bob.actorId, alice.actorId)),
    });
    const id = sent.headers.get("location") as string;
    await eventually(async () => (text.includes(`data: `) && text.includes(id) ? true : undefined));
    abort.abort();
    expect(await reading).toBe("aborted");
  });

  it("refuses requests once the server is closed", async () => {
    const { alice } = servers;
    const before = servers.a.fetch;
    await servers.stopA();
    await expect(before(`${alice.actorId}/outbox`, { headers: headers(alice.token) })).rejects.toThrow(
      "sotto-server is closed",
    );
    await servers.startA();
  });
});
