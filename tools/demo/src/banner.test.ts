import { describe, expect, it } from "vitest";
import { type AccountView, type BannerInput, banner, shellQuote, tryCommands } from "./banner.js";

const account = (name: string, dir: string): AccountView => ({
  name,
  handle: `${name}@127.0.0.1:4000`,
  actorId: `http://127.0.0.1:4000/users/${name}`,
  pid: 42,
  apiUrl: "ws://127.0.0.1:5000/",
  webUrl: "http://127.0.0.1:5000/#code=abc",
  apiTokenFile: `${dir}/${name}/api-token`,
  stateDir: `${dir}/${name}`,
  passphraseFile: `${dir}/${name}.DEMO-ONLY.passphrase`,
});

const input = (dir: string, names: string[]): BannerInput => ({
  origin: "http://127.0.0.1:4000",
  serverDir: `${dir}/server`,
  dataDir: dir,
  accounts: names.map((name) => account(name, dir)),
  cli: { node: "/repo/node_modules/.bin/node", script: "/repo/apps/daemon/dist/bin/sotto.js" },
  demo: names.length > 1,
  cwd: "/repo",
});

describe("the banner's commands", () => {
  it("are relative to the directory they run from when the state is inside it", () => {
    expect(tryCommands(input("/repo/.sotto", ["alice"]))).toEqual([
      "node_modules/.bin/node apps/daemon/dist/bin/sotto.js --state-dir .sotto/alice status",
      "node_modules/.bin/node apps/daemon/dist/bin/sotto.js --state-dir .sotto/alice devices",
      "node_modules/.bin/node apps/daemon/dist/bin/sotto.js --state-dir .sotto/alice chats",
    ]);
  });

  it("keep absolute paths outside it, quote what the shell would split, and name bob's conversation by his actor id", () => {
    const [, history, send] = tryCommands(input("/tmp/my demo", ["alice", "bob"]));
    expect(history).toBe(
      "node_modules/.bin/node apps/daemon/dist/bin/sotto.js --state-dir '/tmp/my demo/alice' history http://127.0.0.1:4000/users/bob",
    );
    expect(send).toMatch(/ send http:\/\/127\.0\.0\.1:4000\/users\/bob 'Hello again, Bob!'$/);
  });

  it("quotes single quotes for a POSIX shell", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote("@bob@host:1")).toBe("@bob@host:1");
  });

  it("says where the API token and the demo-only passphrase are, and how to see the demo", () => {
    const text = banner(input("/repo/.sotto", ["alice"]));
    expect(text).toContain("API token  .sotto/alice/api-token");
    expect(text).toContain("passphrase .sotto/alice.DEMO-ONLY.passphrase  DEMO ONLY");
    expect(text).toContain("npm start -- --demo");
    expect(text).toContain("web UI     http://127.0.0.1:5000/#code=abc");
  });
});
