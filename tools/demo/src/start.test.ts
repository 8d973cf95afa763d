// Runs `npm start`'s orchestrator for real: the embedded server and two real sottod child processes, the
// first message between them, a printed CLI command, Ctrl-C; then a second run on the same state.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { SottoClient } from "@sotto/api";
import { readEndpoint, readToken, tokenPath } from "@sotto/daemon/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const startJs = join(root, "tools", "demo", "dist", "start.js");
const BACKLOG = 30;

interface Run {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first line matching `pattern`; fails after `timeoutMs` or when the process exits. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  readonly exited: Promise<number | null>;
}

function runOrchestrator(args: string[]): Run {
  const child = spawn(process.execPath, [startJs, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const onLine = (line: string) => {
    lines.push(line);
    for (const wake of waiters) wake();
  };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", onLine);
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", onLine);
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      done = true;
      for (const wake of waiters) wake();
      resolve(code);
    }),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 180_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        for (const line of lines) {
          const match = line.match(pattern);
          if (match) return finish(() => resolve(match));
        }
        if (done) finish(() => reject(new Error(`exited before ${pattern}:\n${lines.join("\n")}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${lines.join("\n")}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });
  return { child, lines, waitFor, exited };
}

/** Runs a command line the way a user pasting it into a shell would (from the repository root). */
function shell(commandLine: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("sh", ["-c", commandLine], { cwd: root, encoding: "utf8", timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function printedCommands(lines: readonly string[]): string[] {
  return lines.filter((line) => line.includes("apps/daemon/dist/bin/sotto.js")).map((line) => line.trim());
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function interrupt(run: Run): Promise<number | null> {
  run.child.kill("SIGINT");
  const timer = setTimeout(() => run.child.kill("SIGKILL"), 30_000);
  try {
    return await run.exited;
  } finally {
    clearTimeout(timer);
  }
}

describe("npm start (tools/demo/dist/start.js)", () => {
  let dataDir: string;
  const runs: Run[] = [];

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), "sotto-demo-"));
  });

  afterAll(async () => {
    for (const run of runs) if (run.child.exitCode === null) await interrupt(run);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("--demo: a message from alice's daemon arrives decrypted at bob's, the server holds ciphertext, Ctrl-C stops all", async () => {
    const run = runOrchestrator(["--demo", "--data-dir", dataDir]);
    runs.push(run);
    const [, received] = await run.waitFor(/bob's daemon received and decrypted it: "(.*)"$/);
    expect(received).toMatch(/^Hello Bob! This is Alice/);
    await run.waitFor(/^More: docs\/quickstart\.md$/);
    expect(run.lines.some((l) => /content [A-Za-z0-9+/=]{40}\.\.\./.test(l))).toBe(true);
    expect(run.lines).toContain(
      "[sotto]   an MLS PrivateMessage: its header (group id, epoch) is readable, the message itself is ciphertext",
    );
    expect(
      run.lines.some((l) =>
        /searched the server's database \(\d+ bytes\): the message text is not there/.test(l),
      ),
    ).toBe(true);
    expect(run.lines.join("\n")).toContain(`API token  ${join(dataDir, "alice", "api-token")}`);

    const commands = printedCommands(run.lines);
    expect(commands).toHaveLength(3);
    const status = shell(commands[0] as string);
    expect(status.stderr).toBe("");
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/running/);
    const history = shell(commands[1] as string);
    expect(history.status).toBe(0);
    expect(history.stdout).toContain(received);
    // The third command sends; the orchestrator shows bob's daemon receiving it.
    const send = shell(commands[2] as string);
    expect(send.status).toBe(0);
    expect(send.stdout).toMatch(/^Queued [0-9a-f]{8} \(urn:uuid:/);
    await run.waitFor(/^\[sotto\] bob received from alice: "Hello again, Bob!"$/, 30_000);

    const pids = run.lines
      .map((line) => line.match(/\(sottod, pid (\d+)\)/)?.[1])
      .filter((pid): pid is string => pid !== undefined)
      .map(Number);
    expect(pids).toHaveLength(2);
    expect(pids.every(isRunning)).toBe(true);

    expect(await interrupt(run)).toBe(0);
    expect(run.lines).toContain("[sotto] everything stopped");
    expect(run.lines).toContain("[sotto] stopped sottod alice (exit 0)");
    expect(run.lines).toContain("[sotto] stopped sottod bob (exit 0)");
    expect(pids.some(isRunning)).toBe(false);
  });

  it("a second start reuses the same state: same server port, same accounts, the conversation is still there", async () => {
    const origin = runs[0]?.lines
      .map((l) => l.match(/sotto-server listens at (http:\/\/\S+)/)?.[1])
      .find(Boolean);
    expect(origin).toBeDefined();
    // Picked below the ephemeral ranges, where no outgoing connection holds it when this start wants it back.
    const port = Number(new URL(origin as string).port);
    expect(port).toBeGreaterThanOrEqual(20_000);
    expect(port).toBeLessThanOrEqual(32_767);
    const run = runOrchestrator(["--data-dir", dataDir]);
    runs.push(run);
    await run.waitFor(/^More: docs\/quickstart\.md$/);
    expect(run.lines).toContain(`[sotto] reusing the demo state in ${dataDir}/`);
    expect(run.lines).toContain(`[sotto] sotto-server listens at ${origin}`);
    expect(run.lines).toContain(`[sotto] reusing the account ${origin}/users/alice`);
    expect(run.lines.some((l) => l.includes("sottod init"))).toBe(false);

    const commands = printedCommands(run.lines);
    expect(commands).toHaveLength(3);
    const chats = shell(commands[2] as string);
    expect(chats.status).toBe(0);
    // The chat with bob is still there, shown by his handle (or his actor id while that is unknown).
    const bobNames = [`bob@${new URL(origin as string).host}`, `${origin}/users/bob`];
    expect(bobNames.some((name) => chats.stdout.includes(name))).toBe(true);

    // A backlog for bob, who is not running now: alice sends through her daemon's API.
    const alice = join(dataDir, "alice");
    const endpoint = await readEndpoint(alice);
    const client = await SottoClient.connect({
      url: endpoint?.url as string,
      token: await readToken(tokenPath(alice)),
      reconnect: false,
    });
    try {
      const [conversation] = (await client.call("conversations.list")).conversations;
      for (let i = 0; i < BACKLOG; i++) {
        await client.call("messages.send", {
          conversationId: conversation?.id as string,
          text: `backlog ${i}`,
        });
      }
      const deadline = Date.now() + 30_000;
      while ((await client.call("status")).outbox.queued > 0) {
        if (Date.now() > deadline) throw new Error("alice's outbox did not drain");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      client.close();
    }

    expect(await interrupt(run)).toBe(0);
    expect(run.lines).toContain("[sotto] everything stopped");
  });

  it("a third start shows bob catching up with what arrived while he was away", async () => {
    const run = runOrchestrator(["--demo", "--data-dir", dataDir]);
    runs.push(run);
    const [, count] = await run.waitFor(/^\[sotto\] bob: in sync; caught up with (\d+) new messages$/);
    // The demo's own message counts too when it lands before bob's catch-up ends.
    expect([BACKLOG, BACKLOG + 1]).toContain(Number(count));
    await run.waitFor(/bob's daemon received and decrypted it/);
    expect(await interrupt(run)).toBe(0);
  });
});

describe("npm start refusing what it cannot do", () => {
  it("says the port is taken (with what to do) and exits 1, leaving nothing running", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sotto-demo-port-"));
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = blocker.address() as AddressInfo;
      const run = runOrchestrator(["--data-dir", dir, "--port", String(port)]);
      expect(await run.exited).toBe(1);
      expect(run.lines.join("\n")).toContain(`[sotto] port ${port} is in use.`);
      expect(run.lines.join("\n")).toMatch(/\(port_in_use\)$/m);
      expect(run.lines).toContain("[sotto] everything stopped");
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers an unknown option with the usage and exit 1", async () => {
    const run = runOrchestrator(["--bogus"]);
    expect(await run.exited).toBe(1);
    expect(run.lines.join("\n")).toContain("usage: npm start");
  });
});
