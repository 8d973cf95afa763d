import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SottoServer, startServer } from "@sotto/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handshakeStatus } from "./api/test-support.js";
import { runProgram } from "./testing/programs.js";

const run = (
  args: string[],
  stdin: string,
  until?: (stderr: string) => boolean,
  meanwhile?: (stderr: string) => Promise<void>,
) => runProgram("sottod", args, stdin, { until, meanwhile });

/** A loopback port nothing listens on (bound by the OS, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("the sottod command", () => {
  let dir: string;
  let server: SottoServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sottod-cli-"));
    server = await startServer({ dataDir: join(dir, "server") });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("inits with a passphrase, runs until SIGTERM and exits cleanly; a wrong passphrase is refused", async () => {
    const { token } = await server.createUser("alice");
    const data = join(dir, "alice");
    const handle = `@alice@${server.domain}`;
    const init = await run(
      [
        "init",
        "--data",
        data,
        "--actor",
        handle,
        "--token",
        token,
        "--allow-private-address",
        "--plain-http-webfinger",
      ],
      "a long passphrase\n",
    );
    expect(init.code, init.stderr).toBe(0);

    const started = await run(["run", "--data", data], "a long passphrase\n", (stderr) =>
      stderr.includes('"event":"sottod_ready"'),
    );
    expect(started.code, started.stderr).toBe(0);
    expect(started.stderr).toContain('"event":"stopping","signal":"SIGTERM"');
    expect(started.stderr).toContain('"event":"stopped"');
    expect(started.stderr).not.toContain("a long passphrase");
    expect(started.stderr).not.toContain(token);

    const wrong = await run(["run", "--data", data], "not the passphrase\n");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("sottod: wrong passphrase: it does not unlock the store in");
    expect(wrong.stderr).toContain('"code":"wrong_key"');
    // No class name (minified in the bundle) stands in for a reason.
    expect(wrong.stderr).not.toMatch(/"error":/);
    const again = await run(["init", "--data", data, "--actor", handle, "--token", token], "x\n");
    expect(again.code).toBe(1);
  });

  /** A user's store initialised with a key file; returns its data dir and key file. */
  async function initWithKeyFile(name: string): Promise<{ data: string; key: string }> {
    const { token } = await server.createUser(name);
    const data = join(dir, name);
    const key = keyFile(`${name}.key`);
    const init = await run(
      [
        "init",
        ...["--data", data, "--actor", `@${name}@${server.domain}`, "--token", token, "--key-file", key],
        "--allow-private-address",
        "--plain-http-webfinger",
      ],
      "",
    );
    expect(init.code, init.stderr).toBe(0);
    return { data, key };
  }

  const keyFile = (name: string) => {
    const path = join(dir, name);
    writeFileSync(path, randomBytes(32), { mode: 0o600 });
    return path;
  };

  it("exports the store, imports it under another key, and changes that key", async () => {
    const { data, key } = await initWithKeyFile("bob");
    const passphraseFile = join(dir, "export-passphrase");
    writeFileSync(passphraseFile, "the export passphrase\n", { mode: 0o600 });
    const backup = join(dir, "bob.export");
    const exported = await run(
      ["export", backup, "--data", data, "--key-file", key, "--passphrase-file", passphraseFile],
      "",
    );
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toEqual({ exported: backup });

    const restored = join(dir, "bob-restored");
    const restoredKey = keyFile("bob-restored.key");
    const imported = await run(
      ["import", backup, "--data", restored, "--key-file", restoredKey, "--passphrase-file", passphraseFile],
      "",
    );
    expect(imported.code, imported.stderr).toBe(0);
    const wrongExport = join(dir, "wrong-passphrase");
    writeFileSync(wrongExport, "not it\n", { mode: 0o600 });
    const refused = await run(
      [
        "import",
        backup,
        "--data",
        join(dir, "bob-x"),
        "--key-file",
        restoredKey,
        "--passphrase-file",
        wrongExport,
      ],
      "",
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`sottod: wrong export passphrase: the first line of ${wrongExport}`);
    expect(existsSync(join(dir, "bob-x"))).toBe(false);

    const newKey = keyFile("bob-new.key");
    const changed = await run(
      ["change-key", "--data", restored, "--key-file", restoredKey, "--new-key-file", newKey],
      "",
    );
    expect(changed.code, changed.stderr).toBe(0);
    const old = await run(["run", "--data", restored, "--key-file", restoredKey, "--no-api"], "");
    expect(old.code).toBe(1);
    expect(old.stderr).toContain("sottod: wrong key: the key file does not unlock the store");
    // The restored store, under its new key, is bob's account and runs.
    const ready = await run(["run", "--data", restored, "--key-file", newKey, "--no-api"], "", (stderr) =>
      stderr.includes('"event":"sottod_ready"'),
    );
    expect(ready.code, ready.stderr).toBe(0);
  });

  it("allows the browser origins given with --origin, and no other", async () => {
    const { data, key } = await initWithKeyFile("carol");
    const statuses: number[] = [];
    const ran = await run(
      [
        "run",
        "--data",
        data,
        "--key-file",
        key,
        "--origin",
        "http://localhost:5173",
        "--origin",
        "https://app.test",
      ],
      "",
      (stderr) => stderr.includes('"event":"sottod_ready"'),
      async (stderr) => {
        const ready = stderr.split("\n").find((line) => line.includes('"event":"sottod_ready"')) ?? "{}";
        const url = (JSON.parse(ready) as { api?: string }).api;
        if (url === undefined) throw new Error("sottod_ready names no API url");
        for (const origin of ["http://localhost:5173", "https://app.test", "https://evil.example"]) {
          statuses.push(await handshakeStatus(url, { origin }));
        }
      },
    );
    expect(ran.code, ran.stderr).toBe(0);
    expect(statuses).toEqual([101, 101, 403]);
  });

  it("leaves nothing behind when init fails, so the same command works once the cause is fixed", async () => {
    const { token } = await server.createUser("dave");
    const data = join(dir, "dave");
    const key = join(dir, "dave.key");
    const init = [
      "init",
      "--data",
      data,
      "--actor",
      `@dave@${server.domain}`,
      "--token",
      token,
      "--key-file",
      key,
    ];
    const dev = ["--allow-private-address", "--plain-http-webfinger"];

    writeFileSync(key, randomBytes(32), { mode: 0o644 });
    chmodSync(key, 0o644);
    const loose = await run([...init, ...dev], "");
    expect(loose.code).toBe(1);
    expect(loose.stderr).toMatch(/sottod: key file .* is accessible by group or others .*chmod 600 it/);
    expect(existsSync(data)).toBe(false);

    writeFileSync(key, randomBytes(16));
    chmodSync(key, 0o600);
    const short = await run([...init, ...dev], "");
    expect(short.code).toBe(1);
    expect(short.stderr).toContain("fewer than 32 bytes: a key file holds at least 32 random bytes");
    expect(existsSync(data)).toBe(false);

    // A loopback server without the options for one: the hint names them; nothing is created.
    writeFileSync(key, randomBytes(32));
    const unhinted = await run(init, "");
    expect(unhinted.code).toBe(1);
    expect(unhinted.stderr).toContain("needs --plain-http-webfinger --allow-private-address");
    expect(existsSync(data)).toBe(false);
    const port = await closedPort();
    const unreachable = await run(
      [
        "init",
        "--data",
        data,
        "--actor",
        `http://127.0.0.1:${port}/users/dave`,
        "--token",
        token,
        "--key-file",
        key,
        ...dev,
      ],
      "",
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(
      /^sottod: cannot reach the server for http:\/\/127\.0\.0\.1:\d+\/users\/dave/m,
    );
    expect(existsSync(data)).toBe(false);

    // A data dir that exists (systemd's StateDirectory=) keeps what it held; only the new store goes.
    mkdirSync(data, { mode: 0o700 });
    writeFileSync(join(data, "notes.txt"), "mine");
    chmodSync(key, 0o640);
    expect((await run([...init, ...dev], "")).code).toBe(1);
    expect(readdirSync(data)).toEqual(["notes.txt"]);

    chmodSync(key, 0o600);
    const fixed = await run([...init, ...dev], "");
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(JSON.parse(fixed.stdout).initialized).toMatch(/\/users\/dave$/);

    // init again on a store that exists (a finished one, or one an interrupted init left): what to do, and
    // the store is left as it was.
    const again = await run([...init, ...dev], "");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `sottod: a store already exists in ${data}: sottod run --data ${data} uses it.`,
    );
    expect(again.stderr).toContain("move");
    expect(existsSync(join(data, "sotto.db"))).toBe(true);
  });

  it("exits 1 at once when the API port is in use, and releases the store for the next start", async () => {
    const { data, key } = await initWithKeyFile("erin");
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      // No SIGTERM is sent: the process must end by itself.
      const refused = await run(["run", "--data", data, "--key-file", key, "--api-port", String(port)], "");
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`sottod: cannot serve the local API: Cannot listen on port ${port}`);
      expect(refused.stderr).toContain("--api-port");
      expect(refused.stderr).not.toContain("sottod_ready");
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    const ready = await run(
      ["run", "--data", data, "--key-file", key, "--api-port", String(port)],
      "",
      (stderr) => stderr.includes('"event":"sottod_ready"'),
    );
    expect(ready.code, ready.stderr).toBe(0);
    expect(ready.stderr).toContain(`"api":"ws://127.0.0.1:${port}/"`);
  });
  it("comes back on the port of its previous run (an open web page's origin), and moves only when that port is taken, saying so", async () => {
    const { data, key } = await initWithKeyFile("fay");
    const args = ["run", "--data", data, "--key-file", key];
    const ready = (stderr: string) => stderr.includes('"event":"sottod_ready"');
    const first = await run(args, "", ready);
    const port = Number(/"api":"ws:\/\/127\.0\.0\.1:(\d+)\//.exec(first.stderr)?.[1]);
    expect(port, first.stderr).toBeGreaterThan(0);
    const again = await run(args, "", ready);
    expect(again.stderr).toContain(`"api":"ws://127.0.0.1:${port}/"`);
    expect(again.stderr).not.toContain("api_port_changed");

    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(port, "127.0.0.1", resolve));
    try {
      const moved = await run(args, "", ready);
      expect(moved.code, moved.stderr).toBe(0);
      expect(moved.stderr).toContain('"event":"api_port_changed"');
      expect(moved.stderr).toContain(`"previous":${port}`);
      expect(moved.stderr).toContain("sotto web");
      expect(moved.stderr).not.toContain(`"api":"ws://127.0.0.1:${port}/"`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
