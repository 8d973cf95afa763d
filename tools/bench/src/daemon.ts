// `npm run bench -- daemon [backlog]`: sottod end to end, on two real sotto-servers on loopback.
// - backlog: a 10,000-message backlog synced by a daemon that was stopped (msgs/s), beside the bare MLS decrypt
//   rate of the same messages (processMessage alone, no network or store) and their ratio;
// - latency: send on daemon A -> stored on daemon B via two federated servers with SSE, p50/p99, beside the
//   loopback HTTP round trip to the server;
// - a `sottod run` child process: start-up time to ready and idle RSS, beside a bare Node process.
// All of it under sottod's node flags (NODE_FLAGS), as sottod runs.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Conversation, decodeConversation, processMessage, readEnvelope } from "@sotto/core";
import { createLogger, Daemon, type DaemonOptions } from "@sotto/daemon";
import { NODE_FLAGS, programArgs, programEnv } from "@sotto/daemon/programs";
import { emit, percentile, profiled, round } from "./report.js";

const network = { allowPrivateAddress: true, plainHttpWebFinger: true } as const;
const quiet = createLogger({ level: (process.env.SOTTO_BENCH_LOG as "warn" | undefined) ?? "error" });

async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function main(args: string[]): Promise<void> {
  // Every figure is for the engine as sottod runs it: under sottod's node flags and environment (they trade
  // some speed for memory). Started without them, the bench runs itself again with them.
  if (!NODE_FLAGS.every((flag) => process.execArgv.includes(flag))) {
    const child = spawn(process.execPath, [...NODE_FLAGS, ...process.argv.slice(1)], {
      stdio: "inherit",
      env: programEnv(),
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    if (code !== 0) throw new Error(`the bench under sottod's node flags exited with ${code}`);
    return;
  }
  const backlog = Number(args[0] ?? 10_000);
  const samples = Number(args[1] ?? 200);
  const dir = mkdtempSync(join(tmpdir(), "sotto-bench-daemon-"));
  const servers: ServerProcess[] = [];
  const daemons: Daemon[] = [];
  const options = (name: string): DaemonOptions => {
    writeFileSync(join(dir, `${name}.key`), randomBytes(32), { mode: 0o600 });
    return {
      dataDir: join(dir, name),
      key: { keyFile: join(dir, `${name}.key`) },
      logger: quiet,
      keyPackages: { size: 2 },
    };
  };
  const user = async (server: ServerProcess, name: string) => {
    const { actorId, token } = server.users[name] as { actorId: string; token: string };
    const daemon = await Daemon.init({ ...options(name), actor: actorId, token, network });
    daemons.push(daemon);
    return { daemon, token };
  };
  try {
    const a = await serverProcess(join(dir, "server-a"), ["alice", "bob", "ann"]);
    const b = await serverProcess(join(dir, "server-b"), ["carl"]);
    servers.push(a, b);

    // ---- backlog ----------------------------------------------------------------------------------
    const alice = (await user(a, "alice")).daemon;
    const { daemon: bob0, token: bobToken } = await user(a, "bob");
    await alice.start();
    await bob0.start();
    await bob0.maintainKeyPackages();
    const conversation = await alice.createConversation({ members: [bob0.actorId] });
    await until(() => bob0.listConversations().conversations.length === 1, 20_000, "bob joins");
    const before = bob0.store.group(conversation.id)?.state as Uint8Array;
    await bob0.stop();

    const sendStart = performance.now();
    for (let i = 0; i < backlog; i++)
      await alice.sendMessage({ conversationId: conversation.id, text: `backlog message ${i}` });
    await until(
      () => alice.store.outboxDue(Number.MAX_SAFE_INTEGER, 1).length === 0,
      600_000,
      "alice's outbox drains",
    );
    const sendMs = performance.now() - sendStart;

    // The same messages as bob's server holds them, read with his token (outside any timing).
    const activities: unknown[] = [];
    const bobActor = (await (
      await fetch(bob0.actorId, { headers: { accept: "application/activity+json" } })
    ).json()) as {
      messages: string;
    };
    for (let next: string | undefined = `${bobActor.messages}?after=&limit=100`; next !== undefined; ) {
      const response = await fetch(next, {
        headers: { authorization: `Bearer ${bobToken}`, accept: "application/activity+json" },
      });
      if (!response.ok) throw new Error(`reading the backlog: ${response.status}`);
      const page = (await response.json()) as { orderedItems: unknown[]; next?: string };
      activities.push(...page.orderedItems);
      next = page.orderedItems.length > 0 ? page.next : undefined;
    }
    const envelopes = activities.flatMap((activity) => {
      const read = readEnvelope(activity);
      return read.ok && read.value.kind === "private_message" ? [read.value] : [];
    });
    const decoded = decodeConversation(before);
    if (!decoded.ok) throw decoded.error;
    let state: Conversation = decoded.value;
    const bareStart = performance.now();
    let decrypted = 0;
    for (const envelope of envelopes) {
      const result = await processMessage(state, { bytes: envelope.bytes, published: envelope.published });
      if (result.ok) {
        state = result.value.conversation;
        decrypted++;
      }
    }
    const bareMs = performance.now() - bareStart;

    const bob = await Daemon.open({
      dataDir: join(dir, "bob"),
      key: { keyFile: join(dir, "bob.key") },
      logger: quiet,
    });
    daemons.push(bob);
    const syncMs = await profiled("daemon-backlog", async () => {
      const start = performance.now();
      await bob.start();
      await until(() => bob.counters.get("appdata.message") >= backlog, 600_000, "bob syncs the backlog");
      return performance.now() - start;
    });
    const syncRate = (backlog / syncMs) * 1000;
    const bareRate = (decrypted / bareMs) * 1000;
    emit({
      bench: "daemon.backlog",
      messages: backlog,
      sync_ms: round(syncMs, 1),
      sync_msgs_per_s: round(syncRate, 1),
      bare_decrypt_msgs: decrypted,
      bare_decrypt_msgs_per_s: round(bareRate, 1),
      sync_over_bare: round(syncRate / bareRate),
      send_msgs_per_s: round((backlog / sendMs) * 1000, 1),
    });
    await bob.stop();
    await alice.stop();

    // ---- latency A -> B across two federated servers, SSE -------------------------------------------
    const ann = (await user(a, "ann")).daemon;
    const carl = (await user(b, "carl")).daemon;
    await ann.start();
    await carl.start();
    await carl.maintainKeyPackages();
    const pair = await ann.createConversation({ members: [carl.actorId] });
    await until(() => carl.listConversations().conversations.length === 1, 20_000, "carl joins");
    const arrived = new Map<string, number>();
    carl.store.onCommit(({ events }) => {
      for (const e of events) {
        if (e.type === "message.created")
          arrived.set((e.data as { messageId: string }).messageId, performance.now());
      }
    });
    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      const m = await ann.sendMessage({ conversationId: pair.id, text: `ping ${i}` });
      await until(() => arrived.has(m.id), 30_000, "carl receives");
      latencies.push((arrived.get(m.id) as number) - t);
    }
    const rtts: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      await (await fetch(carl.actorId, { headers: { accept: "application/activity+json" } })).arrayBuffer();
      rtts.push(performance.now() - t);
    }
    emit({
      bench: "daemon.latency",
      samples,
      p50_ms: round(percentile(latencies, 50)),
      p99_ms: round(percentile(latencies, 99)),
      baseline_http_rtt_p50_ms: round(percentile(rtts, 50)),
      p50_over_rtt: round(percentile(latencies, 50) / percentile(rtts, 50)),
    });
    await ann.stop();
    await carl.stop();

    // ---- a sottod child process as users run it (the bundle, with its node flags): start-up, idle RSS ---
    const daemonRun = await measureProcess(
      process.execPath,
      programArgs("sottod", ["run", "--data", join(dir, "carl"), "--key-file", join(dir, "carl.key")]),
      '"event":"sottod_ready"',
      programEnv(),
    );
    const bare = await measureProcess(
      process.execPath,
      ["-e", "process.stderr.write('ready\\n'); setInterval(() => {}, 1000)"],
      "ready",
    );
    const idle = {
      bench: "daemon",
      backlog_msgs_per_s: round(syncRate, 1),
      bare_decrypt_msgs_per_s: round(bareRate, 1),
      backlog_over_bare: round(syncRate / bareRate),
      latency_p50_ms: round(percentile(latencies, 50)),
      latency_p99_ms: round(percentile(latencies, 99)),
      idle_rss_mb: round(daemonRun.rssKb / 1024, 1),
      baseline_node_rss_mb: round(bare.rssKb / 1024, 1),
      ready_ms: round(daemonRun.readyMs, 1),
      baseline_node_ready_ms: round(bare.readyMs, 1),
      ready_over_node: round(daemonRun.readyMs / bare.readyMs),
      clean_exit_on_sigterm: daemonRun.exitCode === 0,
    };
    emit(idle);
  } finally {
    for (const d of daemons) await d.stop().catch(() => {});
    await new Promise((r) => setTimeout(r, 500));
    for (const s of servers) await s.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A sotto-server in its own process (as deployed), with its users created up front. */
interface ServerProcess {
  readonly origin: string;
  readonly users: Record<string, { actorId: string; token: string }>;
  close(): Promise<void>;
}

const serverScript = `
import { startServer } from "@sotto/server";
const server = await startServer({ dataDir: process.env.SOTTO_BENCH_DIR });
const users = {};
for (const name of process.env.SOTTO_BENCH_USERS.split(",")) users[name] = await server.createUser(name);
process.stdout.write(JSON.stringify({ origin: server.origin, users }) + "\\n");
process.once("SIGTERM", () => server.close().then(() => process.exit(0)));
`;

async function serverProcess(dataDir: string, users: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", serverScript], {
    // Where `@sotto/server` resolves: this package's directory.
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: { ...process.env, SOTTO_BENCH_DIR: dataDir, SOTTO_BENCH_USERS: users.join(",") },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code})`)));
  });
  const started = JSON.parse(line) as { origin: string; users: ServerProcess["users"] };
  return {
    ...started,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Spawns a process, times it to its ready line, reads its RSS after 2 s idle, then SIGTERMs it. */
async function measureProcess(
  command: string,
  args: string[],
  readyMarker: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ readyMs: number; rssKb: number; exitCode: number | null }> {
  const start = performance.now();
  const child: ChildProcess = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], env });
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      let seen = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes(readyMarker)) resolve(performance.now() - start);
      });
      child.once("exit", (code) => reject(new Error(`exited (${code}) before ready: ${seen.slice(0, 500)}`)));
    });
    await new Promise((r) => setTimeout(r, 2_000));
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    return { readyMs, rssKb, exitCode: await exited };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
