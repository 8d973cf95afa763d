import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SottoServer, startServer } from "@sotto/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handshakeStatus } from "./api/test-support.js";
import { programArgs, programEnv } from "./programs.js";

/**
 * Runs the built sottod with `stdin` as its input; once `until` holds for its stderr, runs `meanwhile` and sends
 * SIGTERM. Resolves with its exit code, stdout and stderr.
 */
function run(
  args: string[],
  stdin: string,
  until?: (stderr: string) => boolean,
  meanwhile?: (stderr: string) => Promise<void>,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, programArgs("sottod", args), {
      stdio: ["pipe", "pipe", "pipe"],
      env: programEnv(),
    });
    let stderr = "";
    let stdout = "";
    let signalled = false;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!signalled && until?.(stderr)) {
        signalled = true;
        const during = meanwhile?.(stderr) ?? Promise.resolve();
        during.then(
          () => child.kill("SIGTERM"),
          (error: unknown) => {
            child.kill("SIGTERM");
            reject(error);
          },
        );
      }
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
    child.stdin.end(stdin);
  });
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
    expect(wrong.stderr).toContain('"code":"wrong_key"');
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

    const newKey = keyFile("bob-new.key");
    const changed = await run(
      ["change-key", "--data", restored, "--key-file", restoredKey, "--new-key-file", newKey],
      "",
    );
    expect(changed.code, changed.stderr).toBe(0);
    const old = await run(["run", "--data", restored, "--key-file", restoredKey, "--no-api"], "");
    expect(old.code).toBe(1);
    expect(old.stderr).toContain('"code":"wrong_key"');
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
});
