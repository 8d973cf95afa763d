import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type SottoServer, startServer } from "@sotto/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const sottod = fileURLToPath(new URL("../dist/sottod.js", import.meta.url));

/** Runs the built sottod with `stdin` as its input; resolves with its exit code and stderr. */
function run(
  args: string[],
  stdin: string,
  until?: (stderr: string) => boolean,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sottod, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    let signalled = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!signalled && until?.(stderr)) {
        signalled = true;
        child.kill("SIGTERM");
      }
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
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
    expect(init.code).toBe(0);

    const started = await run(["run", "--data", data], "a long passphrase\n", (stderr) =>
      stderr.includes('"event":"sottod_ready"'),
    );
    expect(started.code).toBe(0);
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
});
