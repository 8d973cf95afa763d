// The `sotto` CLI against a running API server on a real store: finding the daemon through the state dir,
// human and JSON output, `watch`, exit codes, and the built command as a real process.
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { METHOD_NAMES, methods } from "@sotto/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeEndpoint } from "../api/endpoint.js";
import { startTestApi, type TestApi, until } from "../api/test-support.js";
import { programArgs, programPath } from "../programs.js";
import { COMMANDS, IMPLICIT_METHODS } from "./commands.js";
import { type CliIo, commandHelp, runCli, usage } from "./main.js";

async function cli(argv: string[], env: Record<string, string> = {}, signal?: AbortSignal) {
  let stdout = "";
  let stderr = "";
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env, signal };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

describe("sotto CLI", () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({}, { preload: 5 });
    await writeEndpoint(api.dir, { url: api.server.url, pid: process.pid });
  });
  afterAll(async () => {
    await api?.close();
  });

  it("finds the daemon through --state-dir (or $SOTTO_STATE_DIR) and prints status", async () => {
    const human = await cli(["--state-dir", api.dir, "status"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^sottod test: not ready/);
    expect(human.stdout).toContain("events   head 5");
    const json = await cli(["status", "--json"], { SOTTO_STATE_DIR: api.dir });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ version: "test", events: { head: 5 } });
  });

  it("takes --url and --token-file over the state dir", async () => {
    const empty = mkdtempSync(join(tmpdir(), "sotto-cli-"));
    try {
      const result = await cli([
        "--state-dir",
        empty,
        "--url",
        api.server.url,
        "--token-file",
        join(api.dir, "api-token"),
        "status",
        "--json",
      ]);
      expect(result.code).toBe(0);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("replays and follows events with watch (--since, --count), one JSON event per line", async () => {
    const result = await cli(["--state-dir", api.dir, "watch", "--since", "2", "--count", "3", "--json"]);
    expect(result.code).toBe(0);
    const events = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(events.every((e) => e.type === "message.created")).toBe(true);
  });

  it("prints live events until stopped", async () => {
    const abort = new AbortController();
    let stdout = "";
    const head = api.store.lastSeq;
    const running = runCli(["--state-dir", api.dir, "watch", "--since", String(head)], {
      stdout: (t) => (stdout += t),
      stderr: () => {},
      env: {},
      signal: abort.signal,
    });
    const [seq] = api.append(1);
    await until("the event line", () => stdout.includes(`#${seq} `));
    abort.abort();
    expect(await running).toBe(0);
    // The test store's message ids are in no conversation the handlers know, so the raw event line is shown.
    expect(stdout).toContain(`#${seq} message.created conversationId=`);
  });

  it("exits 2 with a clear message when no daemon is there, or the token is unreadable", async () => {
    const empty = mkdtempSync(join(tmpdir(), "sotto-cli-"));
    try {
      const none = await cli(["--state-dir", empty, "status"]);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/is sottod running/);
      await writeEndpoint(empty, { url: api.server.url, pid: process.pid });
      const noToken = await cli(["--state-dir", empty, "status"]);
      expect(noToken.code).toBe(2);
      expect(noToken.stderr).toMatch(/cannot read the API token/);
      writeFileSync(join(empty, "api-token"), "wrong-token\n", { mode: 0o600 });
      const wrong = await cli(["--state-dir", empty, "status"]);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/cannot talk to sottod/);
      chmodSync(join(empty, "api-token"), 0o644);
      const loose = await cli(["--state-dir", empty, "status"]);
      expect(loose.code).toBe(2);
      expect(loose.stderr).toMatch(/chmod 600/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("exits 64 on usage errors and 1 on API errors, and says both as JSON with --json", async () => {
    expect((await cli([])).code).toBe(64);
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toBe('sotto: unknown command "frobnicate"\nsee: sotto --help\n');
    const nothing = await cli(["--state-dir", api.dir, "send", "abcd"]);
    expect(nothing.code).toBe(64);
    expect(nothing.stderr).toContain("nothing to send");
    const missing = await cli(["history"]);
    expect(missing).toMatchObject({
      code: 64,
      stderr: expect.stringContaining("usage: sotto history <chat>"),
    });
    const stray = await cli(["status", "--limit", "3"]);
    expect(stray).toMatchObject({ code: 64, stderr: expect.stringContaining("status takes no --limit") });
    expect((await cli(["--state-dir", api.dir, "watch", "--count", "x"])).code).toBe(64);
    const refused = await cli(["--state-dir", api.dir, "devices"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^sotto: .*\(method_not_found\)\n$/);
    const json = await cli(["--state-dir", api.dir, "devices", "--json"]);
    expect(json.code).toBe(1);
    expect(json.stdout).toBe("");
    expect(JSON.parse(json.stderr)).toEqual({
      error: { code: "method_not_found", message: expect.stringContaining("method_not_found"), exitCode: 1 },
    });
    const jsonUsage = await cli(["chats", "--bogus", "--json"]);
    expect(JSON.parse(jsonUsage.stderr)).toMatchObject({ error: { code: "usage", exitCode: 64 } });
  });

  it("has a command for every API method, and each command's help quotes the contract's summaries", () => {
    const covered = new Set([
      ...Object.values(COMMANDS).flatMap((c) => c.methods),
      ...Object.keys(IMPLICIT_METHODS),
    ]);
    expect(METHOD_NAMES.filter((m) => !covered.has(m))).toEqual([]);
    for (const [name, command] of Object.entries(COMMANDS)) {
      const help = commandHelp(name, command);
      expect(help).toContain(`usage: sotto ${name}`);
      for (const method of command.methods) expect(help).toContain(`${method}: ${methods[method].summary}`);
      expect(usage()).toMatch(new RegExp(`^  ${name}\\b`, "m"));
    }
  });

  it("prints its version and help without a daemon: --version, help [command], <command> --help", async () => {
    expect(await cli(["--version"])).toMatchObject({ code: 0, stdout: "sotto 0.1.0\n" });
    const help = await cli(["--help"]);
    expect(help).toMatchObject({ code: 0, stdout: usage() });
    expect(help.stdout).toContain("exit codes: 0 ok");
    const send = await cli(["help", "send"]);
    expect(send.code).toBe(0);
    expect(send.stdout).toBe(commandHelp("send", COMMANDS.send as never));
    expect(send.stdout).toContain("--message-from-stdin");
    expect(await cli(["send", "--help"])).toEqual(send);
    expect((await cli(["help", "frobnicate"])).code).toBe(64);
  });

  it("runs as the built `sotto` command", async () => {
    expect(existsSync(programPath("sotto"))).toBe(true);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      programArgs("sotto", ["status", "--json"]),
      {
        env: { ...process.env, SOTTO_STATE_DIR: api.dir },
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ version: "test" });
  });
});
