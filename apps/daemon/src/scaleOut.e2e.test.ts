// sotto-server as several processes on one MariaDB (issue 19): two web and two worker processes behind a
// round-robin proxy, as deployed. alice (there) and bob (on a SQLite sotto-server of his own) talk through
// them with real daemons; a worker is SIGKILLed in the middle of alice's burst and every message still reaches
// bob's server and daemon exactly once; bob's reply reaches alice; an event stream open on web B shows what was
// posted through web A.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  addUser,
  dropDatabases,
  ensureMariadb,
  freePort,
  freshDatabase,
  type ProcessUser,
  type ServerProcess,
  startServerProcess,
} from "@sotto/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Daemon } from "./daemon.js";
import { createLogger } from "./log.js";
import { createdCounts, joined, network, until } from "./testing/world.js";

const BURST = 40;

/** A reverse proxy handing each request to the next of `ports` in turn (streams pass through unbuffered). */
async function roundRobin(ports: readonly number[]): Promise<Server> {
  let next = 0;
  const proxy = createServer((req, res) => {
    const port = ports[next++ % ports.length] as number;
    const upstream = request(
      { host: "127.0.0.1", port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return proxy;
}

/** Ids of the items in an owner-only collection, oldest first, read forward page by page. */
async function collectionIds(collection: string, token: string): Promise<string[]> {
  const ids: string[] = [];
  let url: string | undefined = `${collection}?after=&limit=200`;
  while (url !== undefined) {
    const response = await fetch(url, {
      headers: { accept: "application/activity+json", authorization: `Bearer ${token}` },
    });
    const page = (await response.json()) as { orderedItems: { id: string }[]; next?: string };
    ids.push(...page.orderedItems.map((i) => i.id));
    url = page.next;
  }
  return ids;
}

describe("sotto-server as two web and two worker processes on one MariaDB", () => {
  const dir = mkdtempSync(join(tmpdir(), "sotto-scale-out-"));
  const processes: ServerProcess[] = [];
  const daemons: Daemon[] = [];
  let proxy: Server | undefined;
  let webA: ServerProcess;
  let webB: ServerProcess;
  let workers: ServerProcess[];
  let webPorts: number[];
  let origin: string;
  let alice: ProcessUser;
  let carol: ProcessUser;
  let bobUser: ProcessUser;
  let aliceDaemon: Daemon;
  let bobDaemon: Daemon;

  const daemon = async (name: string, user: ProcessUser): Promise<Daemon> => {
    const keyFile = join(dir, `${name}.key`);
    writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
    const d = await Daemon.init({
      dataDir: join(dir, `${name}-data`),
      key: { keyFile },
      logger: createLogger({ level: "error" }),
      pollIntervalMs: 100,
      keyPackages: { size: 2 },
      outbox: { baseDelayMs: 50, maxDelayMs: 500 },
      actor: user.actorId,
      token: user.token,
      network,
    });
    daemons.push(d);
    await d.start();
    return d;
  };

  beforeAll(async () => {
    await ensureMariadb();
    const database = await freshDatabase();
    webPorts = [await freePort(), await freePort()];
    proxy = await roundRobin(webPorts);
    origin = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const cluster = { SOTTO_DATABASE: database, SOTTO_ORIGIN: origin };
    alice = await addUser(cluster, origin, "alice");
    carol = await addUser(cluster, origin, "carol");
    const web = (port: number) =>
      startServerProcess({ env: { ...cluster, SOTTO_PORT: String(port) }, runArgs: ["--role", "web"] });
    webA = await web(webPorts[0] as number);
    webB = await web(webPorts[1] as number);
    workers = [];
    for (let i = 0; i < 2; i++) {
      workers.push(await startServerProcess({ env: cluster, runArgs: ["--role", "worker"] }));
    }
    processes.push(webA, webB, ...workers);
    // bob's home: an ordinary one-process sotto-server on SQLite.
    const bobPort = await freePort();
    const bobEnv = { SOTTO_DATA_DIR: join(dir, "bob-server"), SOTTO_PORT: String(bobPort) };
    bobUser = await addUser(bobEnv, `http://127.0.0.1:${bobPort}`, "bob");
    processes.push(await startServerProcess({ env: bobEnv }));

    aliceDaemon = await daemon("alice", alice);
    bobDaemon = await daemon("bob", bobUser);
    await bobDaemon.maintainKeyPackages();
  }, 600_000); // six processes start, each loading Fedify: minutes on a loaded machine

  afterAll(async () => {
    for (const d of daemons) await d.stop().catch(() => undefined);
    for (const p of processes) await p.stop().catch(() => undefined);
    proxy?.closeAllConnections();
    proxy?.close();
    await dropDatabases().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers every message of a burst exactly once although a worker is killed in the middle of it", async () => {
    const { id: conversationId } = await aliceDaemon.createConversation({ members: [bobUser.actorId] });
    await joined(bobDaemon, conversationId, "bob");
    const sent: string[] = [];
    for (let i = 0; i < BURST; i++) {
      sent.push((await aliceDaemon.sendMessage({ conversationId, text: `burst ${i}` })).id);
    }
    const arrived = () => sent.filter((id) => (createdCounts(bobDaemon).get(id) ?? 0) > 0).length;
    await until("bob has the first messages of the burst", () => arrived() >= 3, 120_000);
    // Mid-burst: the worker may hold a delivery in an open transaction right now.
    await workers[0]?.kill();
    expect(arrived()).toBeLessThan(BURST);
    await until("bob has the whole burst", () => arrived() === BURST, 300_000);

    // Exactly once in the receivers' stores: bob's daemon and bob's server.
    const counts = createdCounts(bobDaemon);
    expect(sent.map((id) => counts.get(id))).toEqual(sent.map(() => 1));
    const onServer = await collectionIds(`${bobUser.actorId}/messages`, bobUser.token);
    expect(new Set(onServer).size).toBe(onServer.length);
    const fromAlice = onServer.filter((id) => id.startsWith(`${origin}/`));
    expect(fromAlice.length).toBeGreaterThanOrEqual(BURST);

    // And back: bob's server delivers to the cluster (through the proxy, to either web process), alice's
    // daemon reads it from whichever web process its event stream is on.
    const reply = await bobDaemon.sendMessage({ conversationId, text: "all of them, once" });
    await until(
      "alice has bob's reply",
      () => (createdCounts(aliceDaemon).get(reply.id) ?? 0) === 1,
      120_000,
    );
  }, 900_000);

  it("shows on an event stream of web B what was posted through web A", async () => {
    const abort = new AbortController();
    const stream = await fetch(`http://127.0.0.1:${webPorts[1]}/users/carol/inbox`, {
      headers: { accept: "text/event-stream", authorization: `Bearer ${carol.token}` },
      signal: abort.signal,
    });
    expect(stream.status).toBe(200);
    const seen: string[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream.body ?? []) {
        for (const m of decoder.decode(chunk, { stream: true }).matchAll(/^id: (.*)$/gm)) {
          seen.push(m[1] as string);
        }
      }
    })().catch(() => undefined);
    try {
      const posted = await fetch(`http://127.0.0.1:${webPorts[0]}/users/alice/outbox`, {
        method: "POST",
        headers: { "content-type": "application/activity+json", authorization: `Bearer ${alice.token}` },
        body: JSON.stringify({
          "@context": "https://www.w3.org/ns/activitystreams",
          type: "Note",
          to: [carol.actorId],
          content: "through web A",
        }),
      });
      expect(posted.status).toBe(201);
      const id = posted.headers.get("location") as string;
      await until("carol's stream on web B shows it", () => seen.includes(id), 30_000);
    } finally {
      abort.abort();
      await reading;
    }
  }, 120_000);
});
