// The `sotto-xmpp` binary (built dist/cli.js) against a real Prosody: starts from a config file, serves the
// component, answers stanzas, and stops cleanly on SIGTERM.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Prosody, startProsody } from "./testing/prosody.js";
import { waitFor } from "./testing/wait.js";
import { connectUser, type XmppUser } from "./testing/xmpp-user.js";
import { NS } from "./xmpp/namespaces.js";
import { xml } from "./xmpp/xml.js";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");
const dir = mkdtempSync(join(tmpdir(), "sotto-gw-cli-"));

describe("sotto-xmpp", () => {
  let prosody: Prosody;
  let child: ChildProcess | undefined;
  let stderr = "";
  let alice: XmppUser | undefined;

  beforeAll(async () => {
    prosody = await startProsody();
    prosody.register("alice", "pw-alice");
    writeFileSync(join(dir, "secret"), prosody.componentSecret);
    const config = {
      dataDir: join(dir, "data"),
      xmpp: {
        service: prosody.componentService,
        domain: prosody.componentDomain,
        secretFile: join(dir, "secret"),
        allowedDomains: [prosody.host],
      },
      fediverse: { port: 0, allowPrivateAddress: true },
      media: { port: 0 },
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    child = spawn(process.execPath, [cli, "--config", join(dir, "config.json")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    await waitFor("the gateway to start", () => (stderr.includes('"gateway.started"') ? true : undefined));
  });

  afterAll(async () => {
    await alice?.stop();
    if (child?.exitCode === null) child.kill("SIGKILL");
    await prosody?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the component and answers stanzas", async () => {
    await waitFor("the component", () => (stderr.includes('"xmpp.online"') ? true : undefined));
    alice = await connectUser({
      service: prosody.c2sService,
      domain: prosody.host,
      username: "alice",
      password: "pw-alice",
    });
    const info = await alice.iq(
      xml("iq", { type: "get", to: prosody.componentDomain }, xml("query", { xmlns: NS.discoInfo })),
    );
    expect(info.getChild("query")?.getChild("identity")?.attrs.type).toBe("activitypub");
    await alice.send(
      xml("message", { type: "chat", to: prosody.componentDomain, id: "m1" }, xml("body", {}, "hi")),
    );
    const error = await alice.next((s) => s.attrs.type === "error" && s.attrs.id === "m1");
    expect(error.getChild("error")?.getChild("service-unavailable", NS.stanzas)).toBeDefined();
    expect(stderr).not.toContain(prosody.componentSecret);
  });

  it("stops cleanly on SIGTERM", async () => {
    const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));
    child?.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toContain('"gateway.stopped"');
  });
});
