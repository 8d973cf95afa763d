// The `sotto-xmpp` binary (built dist/cli.js) against a real Prosody: starts from a config file, serves the
// component, answers stanzas, and stops cleanly on SIGTERM.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayProcess, startGatewayProcess } from "./testing/process.js";
import { type Prosody, startProsody } from "./testing/prosody.js";
import { connectUser, type XmppUser } from "./testing/xmpp-user.js";
import { NS } from "./xmpp/namespaces.js";
import { xml } from "./xmpp/xml.js";

const dir = mkdtempSync(join(tmpdir(), "sotto-gw-cli-"));

describe("sotto-xmpp", () => {
  let prosody: Prosody;
  let gateway: GatewayProcess | undefined;
  let alice: XmppUser | undefined;

  beforeAll(async () => {
    prosody = await startProsody();
    prosody.register("alice", "pw-alice");
    // Written to a config file (the secret to a file of its own); resolves once the component is online.
    gateway = await startGatewayProcess({ prosody, dir });
  });

  afterAll(async () => {
    await alice?.stop();
    if (gateway?.child.exitCode === null) gateway.child.kill("SIGKILL");
    await prosody?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the component and answers stanzas", async () => {
    expect(gateway?.stderr()).toContain('"gateway.started"');
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
    expect(gateway?.stderr()).not.toContain(prosody.componentSecret);
  });

  it("stops cleanly on SIGTERM", async () => {
    expect(await gateway?.stop()).toBe(0);
    expect(gateway?.stderr()).toContain('"gateway.stopped"');
  });
});
