import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig, readConfig } from "./config.js";

const dir = mkdtempSync(join(tmpdir(), "sotto-gw-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base = {
  dataDir: "/var/lib/sotto-xmpp",
  xmpp: { service: "xmpp://127.0.0.1:5347", domain: "Fedi.Example.org" },
  fediverse: {},
};

describe("readConfig", () => {
  it("fills defaults: allow-list = the component's parent domain, ports 8090 and 8091 on loopback", () => {
    const r = readConfig(base, { SOTTO_XMPP_SECRET: "s3cret" });
    expect(r.ok && r.value).toEqual({
      dataDir: "/var/lib/sotto-xmpp",
      xmpp: {
        service: "xmpp://127.0.0.1:5347",
        domain: "fedi.example.org",
        secret: "s3cret",
        allowedDomains: ["example.org"],
      },
      fediverse: { port: 8090, host: "127.0.0.1", allowPrivateAddress: false },
      media: { port: 8091, host: "127.0.0.1" },
    });
  });

  it("takes a mysql:// database for the state and the home server, and nothing else there", () => {
    const database = "mysql://sotto:pw@db.example:3306/sotto_xmpp";
    const r = readConfig({ ...base, database }, { SOTTO_XMPP_SECRET: "s3cret" });
    expect(r.ok && r.value.database).toBe(database);
    const wrong = readConfig(
      { ...base, database: "postgres://db.example/x" },
      { SOTTO_XMPP_SECRET: "s3cret" },
    );
    expect(wrong.ok || wrong.error.message).toMatch(/^database: must be a mysql:\/\/ URL/);
  });

  it("reads the secret from a file and refuses a config without one", () => {
    const file = join(dir, "secret");
    writeFileSync(file, "from-file\n");
    const r = readConfig({ ...base, xmpp: { ...base.xmpp, secretFile: file } });
    expect(r.ok && r.value.xmpp.secret).toBe("from-file");
    const none = readConfig(base);
    expect(none.ok || none.error.code).toBe("no_secret");
  });

  it("names the first invalid field and never echoes the secret", () => {
    const bad = readConfig({ ...base, xmpp: { ...base.xmpp, service: "tcp://x", secret: "hunter2" } });
    expect(bad.ok || bad.error.code).toBe("invalid");
    expect(bad.ok || bad.error.message).toMatch(/^xmpp\.service/);
    expect(bad.ok || bad.error.message).not.toContain("hunter2");
    const extra = readConfig({ ...base, surprise: true }, { SOTTO_XMPP_SECRET: "x" });
    expect(extra.ok || extra.error.code).toBe("invalid");
  });

  it("reports an unreadable file", () => {
    const r = loadConfig(join(dir, "missing.json"));
    expect(r.ok || r.error.code).toBe("unreadable");
  });
});
