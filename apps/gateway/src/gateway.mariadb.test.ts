// The gateway with `database` (MariaDB on 127.0.0.1:3306): its state and its home server's tables live in the
// database, so it starts again from another data directory (another host) holding only the puppets' stores,
// and carries on where it was: queued mail arrives, the encryption notice is not repeated.
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message } from "@sotto/api";
import type { Daemon } from "@sotto/daemon";
import { mysqlSql, openMysqlPool } from "@sotto/fedify";
import { type SottoServer, startServer } from "@sotto/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jidForHandle } from "./addressing.js";
import { ENCRYPTION_NOTICE } from "./bridge.js";
import type { Gateway } from "./gateway.js";
import type { Log } from "./log.js";
import { startTestGateway } from "./testing/gateway.js";
import { freePort, type Prosody, startProsody } from "./testing/prosody.js";
import { startSottod } from "./testing/sottod.js";
import { waitFor } from "./testing/wait.js";
import { loginUser, type XmppUser } from "./testing/xmpp-user.js";
import { type Element, xml } from "./xmpp/xml.js";

const MARIADB = "mysql://root@127.0.0.1:3306";
const dir = mkdtempSync(join(tmpdir(), "sotto-gw-mariadb-"));
const name = `sotto_gw_e2e_${process.pid}_${randomBytes(4).toString("hex")}`;
const log: Log = () => undefined;

async function admin(statement: string): Promise<void> {
  const pool = await openMysqlPool(`${MARIADB}/test`);
  try {
    await mysqlSql(pool).run(statement);
  } finally {
    await pool.end();
  }
}

describe("the gateway on MariaDB", () => {
  let prosody: Prosody;
  let home: SottoServer;
  let bob: Daemon;
  let gateway: Gateway | undefined;
  let port: number;
  let alice: XmppUser;
  let bobJid: string;
  let conversationId: string;
  const database = `${MARIADB}/${name}`;

  const openGateway = (dataDir: string) =>
    startTestGateway({ prosody, dataDir, database, port, log, pollIntervalMs: 200 });
  const fromBob = (s: Element) => s.is("message") && s.attrs.from?.split("/")[0] === bobJid;
  const bobSees = (what: string, match: (m: Message) => boolean) =>
    waitFor(what, () => bob.listMessages({ conversationId }).messages.find(match));

  beforeAll(async () => {
    await admin(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    prosody = await startProsody();
    prosody.register("alice", "pw-alice");
    home = await startServer({ dataDir: join(dir, "home") });
    ({ daemon: bob } = await startSottod(home, "bob", join(dir, "bob"), { pollIntervalMs: 200 }));
    port = await freePort();
    gateway = await openGateway(join(dir, "host-1"));
    await gateway.xmpp.link.waitOnline();
    bobJid = jidForHandle(`bob@${home.domain}`, prosody.componentDomain);
    alice = await loginUser(prosody, "alice");
  }, 120_000);

  afterAll(async () => {
    await alice?.stop();
    await gateway?.stop();
    await bob?.stop();
    await home?.close();
    await prosody?.stop();
    await admin(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("carries a message each way, then starts again elsewhere and carries on", async () => {
    await alice.send(xml("message", { type: "chat", to: bobJid, id: "m1" }, xml("body", {}, "hello bob")));
    await alice.next((s) => fromBob(s) && s.getChildText("body") === ENCRYPTION_NOTICE);
    conversationId = await waitFor("bob's conversation", () => bob.listConversations().conversations[0]?.id);
    await bobSees("alice's message", (m) => m.content === "hello bob");
    const sent = await bob.sendMessage({ conversationId, text: "hi alice" });
    expect((await alice.next((s) => fromBob(s) && s.attrs.id === sent.id)).getChildText("body")).toBe(
      "hi alice",
    );

    await gateway?.stop();
    gateway = undefined;
    // Nothing of the gateway's state or its server's tables is in the data directory...
    expect(existsSync(join(dir, "host-1", "gateway.sqlite"))).toBe(false);
    expect(existsSync(join(dir, "host-1", "fediverse", "server", "sotto-server.sqlite"))).toBe(false);
    // ... so the new host gets the puppets' stores only; the old directory is gone.
    cpSync(join(dir, "host-1"), join(dir, "host-2"), { recursive: true });
    rmSync(join(dir, "host-1"), { recursive: true, force: true });

    const whileDown = await bob.sendMessage({ conversationId, text: "while you were moving" });
    gateway = await openGateway(join(dir, "host-2"));
    await gateway.xmpp.link.waitOnline();
    const got = await alice.next((s) => fromBob(s) && s.attrs.id === whileDown.id, 30_000);
    expect(got.getChildText("body")).toBe("while you were moving");
    await alice.send(xml("message", { type: "chat", to: bobJid, id: "m2" }, xml("body", {}, "moved")));
    await bobSees("alice's message from the new host", (m) => m.content === "moved");
    expect(alice.received.filter((s) => s.getChildText("body") === ENCRYPTION_NOTICE)).toHaveLength(1);
  });
});
