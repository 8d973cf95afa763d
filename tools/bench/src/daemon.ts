// `npm run bench -- daemon [backlog]`: sottod end to end, on two real sotto-servers on loopback.
// - backlog: a 10,000-message backlog synced by a daemon that was stopped (msgs/s), beside the bare MLS decrypt
//   rate of the same messages (processMessage alone, no network or store; the faster of two passes) and their ratio;
// - latency: send on daemon A -> stored on daemon B via two federated servers with SSE, p50/p99, beside the
//   loopback HTTP round trip to the server;
// - a `sottod run` child process: start-up time to ready and idle RSS, beside a bare Node process.
// All of it under sottod's node flags (NODE_FLAGS), as sottod runs. `daemon flags [backlog] [samples] [rounds]
// [flags...]` runs the catch-up and the idle `sottod run` under each variant of the flags instead (sottod's, and
// each further argument, a space-separated list; without any: none, and sottod's without each one).
// `daemon ahead [backlog] [rounds]` runs the catch-up with decrypt ahead on and off, interleaved (default 3
// rounds); `SOTTO_BENCH_DECRYPT_AHEAD=0` turns it off for the other modes.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants, type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import { type Conversation, decodeConversation, processMessage, readEnvelope } from "@sotto/core";
import { Daemon } from "@sotto/daemon";
import { NODE_FLAGS, programEnv, programPath } from "@sotto/daemon/programs";
import { emit, percentile, profiled, round } from "./report.js";
import { appendBacklog } from "./support/backlog.js";
import { benchDaemonOptions, quiet } from "./support/daemons.js";
import { measureProcess, type ServerProcess, serverProcess, until } from "./support/processes.js";
import { type ThreadTimes, threadTimes } from "./support/threads.js";

const network = { allowPrivateAddress: true, plainHttpWebFinger: true } as const;

interface Variant {
  readonly name: string;
  readonly flags: readonly string[];
  /** Whether the daemon decrypts ahead on a worker thread (DaemonOptions.decryptAhead). */
  readonly decryptAhead: boolean;
}

/**
 * Which node flags a catch-up run uses: sottod's, none, or sottod's without one of them, or (`extra`, each a
 * space-separated list of flags) the variants to compare with sottod's.
 */
function flagVariants(compare: boolean, extra: readonly string[] = []): Variant[] {
  const decryptAhead = process.env.SOTTO_BENCH_DECRYPT_AHEAD !== "0";
  const variants: Variant[] = [{ name: "NODE_FLAGS", flags: NODE_FLAGS, decryptAhead }];
  if (!compare) return variants;
  if (extra.length > 0)
    return [
      ...variants,
      ...extra.map((list) => ({
        name: list.trim() || "none",
        flags: list.split(" ").filter(Boolean),
        decryptAhead,
      })),
    ];
  return [
    ...variants,
    { name: "none", flags: [], decryptAhead },
    ...NODE_FLAGS.map((flag) => ({
      name: `without ${flag}`,
      flags: NODE_FLAGS.filter((f) => f !== flag),
      decryptAhead,
    })),
  ];
}

/** The catch-up with decrypt ahead on and off, under sottod's flags. */
const aheadVariants: Variant[] = [
  { name: "decrypt ahead", flags: NODE_FLAGS, decryptAhead: true },
  { name: "main thread only", flags: NODE_FLAGS, decryptAhead: false },
];

export async function main(args: string[]): Promise<void> {
  if (args[0] === "catch-up") return catchUp(JSON.parse(process.env.SOTTO_BENCH_CATCH_UP as string));
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
  // `flags` (instead of a backlog size) compares the catch-up under each variant of the node flags.
  const compareFlags = args[0] === "flags";
  // `ahead` (instead of a backlog size) compares the catch-up with decrypt ahead on and off.
  const compareAhead = args[0] === "ahead";
  if (compareFlags || compareAhead) args.shift();
  const backlog = Number(args[0] ?? 10_000);
  const samples = compareAhead ? 20 : Number(args[1] ?? 200);
  const rounds = compareFlags ? Number(args[2] ?? 2) : compareAhead ? Number(args[1] ?? 3) : 1;
  const extraVariants = compareFlags ? args.slice(3) : [];
  const dir = mkdtempSync(join(tmpdir(), "sotto-bench-daemon-"));
  const servers: ServerProcess[] = [];
  const daemons: Daemon[] = [];
  const user = async (server: ServerProcess, name: string) => {
    const { actorId, token } = server.users[name] as { actorId: string; token: string };
    const daemon = await Daemon.init({ ...benchDaemonOptions(dir, name), actor: actorId, token, network });
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
    await bob0.stop();

    // A few messages through sottod's send path (its rate), the rest written as sottod posts them.
    const sent = Math.min(backlog, 200);
    const sendStart = performance.now();
    for (let i = 0; i < sent; i++)
      await alice.sendMessage({ conversationId: conversation.id, text: `backlog message ${i}` });
    await until(
      () => alice.store.outboxDue(Number.MAX_SAFE_INTEGER, 1).length === 0,
      600_000,
      "alice's outbox drains",
    );
    const sendMs = performance.now() - sendStart;
    const aliceState = decodeConversation(alice.store.group(conversation.id)?.state as Uint8Array);
    await alice.stop();
    if (!aliceState.ok) throw aliceState.error;
    await appendBacklog({
      conversation: aliceState.value,
      actor: alice.actorId,
      serverDir: join(dir, "server-a"),
      owner: "bob",
      count: backlog - sent,
      text: (i) => `backlog message ${sent + i}`,
    });

    // Each catch-up starts from a copy of bob's store as it was before the backlog, in a process of its own.
    const variants = compareAhead ? aheadVariants : flagVariants(compareFlags, extraVariants);
    const runs: CatchUpResult[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const variant of variants) {
        const run = join(dir, `bob-run-${runs.length}`);
        cpSync(join(dir, "bob"), run, { recursive: true });
        const result = await catchUpProcess(variant, {
          dataDir: run,
          keyFile: join(dir, "bob.key"),
          token: bobToken,
          backlog,
          decryptAhead: variant.decryptAhead,
          serverPid: a.pid,
          profile: runs.length === 0 ? "daemon-backlog" : undefined,
        });
        rmSync(run, { recursive: true, force: true });
        runs.push(result);
        emit({
          bench: "daemon.backlog",
          ...result,
          send_msgs_per_s: round((sent / sendMs) * 1000, 1),
        });
      }
    }

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
    const idles: (Awaited<ReturnType<typeof measureProcess>> & { flags: string })[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const { name, flags } of variants) {
        const measured = await measureProcess(
          process.execPath,
          [
            ...flags,
            programPath("sottod"),
            "run",
            "--data",
            join(dir, "carl"),
            "--key-file",
            join(dir, "carl.key"),
          ],
          '"event":"sottod_ready"',
          programEnv(),
        );
        idles.push({ flags: name, ...measured });
      }
    }
    const bare = await measureProcess(
      process.execPath,
      ["-e", "process.stderr.write('ready\\n'); setInterval(() => {}, 1000)"],
      "ready",
    );
    if (compareAhead) {
      for (const variant of variants) {
        const mine = runs.filter((r) => r.flags === variant.name);
        emit({
          bench: "daemon.ahead",
          variant: variant.name,
          rounds,
          sync_over_bare: mine.map((r) => r.sync_over_bare),
          sync_msgs_per_s: mine.map((r) => r.sync_msgs_per_s),
          sync_cpu_ms_per_msg: mine.map((r) => r.sync_cpu_ms_per_msg),
          sync_elu: mine.map((r) => r.sync_elu),
          idle_rss_mb: idles.filter((r) => r.flags === variant.name).map((r) => round(r.rssKb / 1024, 1)),
        });
      }
      return;
    }
    if (compareFlags) {
      const base = runs.filter((r) => r.flags === "NODE_FLAGS");
      for (const variant of variants) {
        const mine = runs.filter((r) => r.flags === variant.name);
        const idle = idles.filter((r) => r.flags === variant.name);
        emit({
          bench: "daemon.flags",
          flags: variant.name,
          rounds,
          sync_over_bare: mine.map((r) => r.sync_over_bare),
          sync_cpu_over_bare_cpu: mine.map((r) => r.sync_cpu_over_bare_cpu),
          sync_msgs_per_s: mine.map((r) => r.sync_msgs_per_s),
          sync_cpu_ms_per_msg: mine.map((r) => r.sync_cpu_ms_per_msg),
          sync_cpu_vs_node_flags: round(
            percentile(
              mine.map((r) => r.sync_cpu_ms_per_msg),
              50,
            ) /
              percentile(
                base.map((r) => r.sync_cpu_ms_per_msg),
                50,
              ),
          ),
          idle_rss_mb: idle.map((r) => round(r.rssKb / 1024, 1)),
          ready_ms: idle.map((r) => round(r.readyMs, 1)),
          baseline_node_rss_mb: round(bare.rssKb / 1024, 1),
        });
      }
      return;
    }
    const first = runs[0] as CatchUpResult;
    const daemonRun = idles[0] as (typeof idles)[number];
    const idle = {
      bench: "daemon",
      backlog_msgs_per_s: round(first.sync_msgs_per_s, 1),
      bare_decrypt_msgs_per_s: round(first.bare_decrypt_msgs_per_s, 1),
      backlog_over_bare: round(first.sync_msgs_per_s / first.bare_decrypt_msgs_per_s),
      backlog_cpu_over_bare_cpu: first.sync_cpu_over_bare_cpu,
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

interface CatchUpInput {
  readonly dataDir: string;
  readonly keyFile: string;
  readonly token: string;
  readonly backlog: number;
  readonly decryptAhead: boolean;
  /** Bob's server's process: its CPU during the sync is reported beside the daemon's. */
  readonly serverPid: number;
  /** Name of the CPU profile of the sync (with SOTTO_BENCH_PROFILE). */
  readonly profile?: string | undefined;
}

interface CatchUpResult {
  readonly flags: string;
  readonly messages: number;
  readonly sync_ms: number;
  readonly sync_msgs_per_s: number;
  readonly sync_cpu_ms_per_msg: number;
  readonly bare_decrypt_msgs: number;
  readonly bare_decrypt_msgs_per_s: number;
  readonly bare_cpu_ms_per_msg: number;
  /** Wall-time rates, sync over bare decryption: the figure of the issue. */
  readonly sync_over_bare: number;
  /** The same in CPU time of this process (all threads), less distorted by other load on the machine. */
  readonly sync_cpu_over_bare_cpu: number;
  /** Event-loop utilisation during the sync: below 1 means the daemon waited (for the server, the disk). */
  readonly sync_elu: number;
  /**
   * Minor page faults of this process over the sync: memory the heaps touched for the first time. Each costs
   * ~10 us of CPU on this VM (tools/bench README), so a heap that grows is slow here.
   */
  readonly sync_minor_faults: number;
  /** From the sync's start: `Daemon.start` returned, the first message applied, a tenth of them applied. */
  readonly sync_started_ms: number;
  readonly sync_first_ms: number;
  readonly sync_tenth_ms: number;
  /** Messages whose decryption the daemon took from its decrypt-ahead worker. */
  readonly decrypt_ahead_taken: number;
  /**
   * CPU and run-queue time of this process's threads during the sync, by thread name (Linux): `MainThread`,
   * `WorkerThread` (decrypt ahead), `V8Worker` (V8's GC and compiler helpers), `libuv-worker`.
   */
  readonly sync_threads: ThreadTimes;
  /** CPU of bob's server's process during the sync (all threads): it shares the machine's cores. */
  readonly server_cpu_ms: number;
  /** The main thread's pauses for garbage collection over the sync, by kind (the worker's are not seen here). */
  readonly main_gc: Record<string, { count: number; ms: number }>;
}

/** Runs `catchUp` in a node process of its own under `flags` (and sottod's environment). */
async function catchUpProcess({ name, flags }: Variant, input: CatchUpInput): Promise<CatchUpResult> {
  const child = spawn(process.execPath, [...flags, process.argv[1] as string, "daemon", "catch-up"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: programEnv({ ...process.env, SOTTO_BENCH_CATCH_UP: JSON.stringify(input) }),
  });
  let out = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`the catch-up process exited with ${code}`);
  const result = JSON.parse(out.trim().split("\n").at(-1) as string) as Omit<CatchUpResult, "flags">;
  return { flags: name, ...result };
}

/**
 * In the catch-up process: decrypts the backlog as bob's server holds it with bare `processMessage` (no
 * network or store), then opens bob's daemon on his store as it was before the backlog and times its sync.
 */
async function catchUp(input: CatchUpInput): Promise<void> {
  const bob = await Daemon.open({
    dataDir: input.dataDir,
    key: { keyFile: input.keyFile },
    logger: quiet,
    decryptAhead: input.decryptAhead,
  });
  try {
    const conversationId = bob.listConversations().conversations[0]?.id as string;
    const before = bob.store.group(conversationId)?.state as Uint8Array;
    // The same messages as bob's server holds them, read with his token (outside any timing).
    const activities: unknown[] = [];
    const bobActor = (await (
      await fetch(bob.actorId, { headers: { accept: "application/activity+json" } })
    ).json()) as { messages: string };
    for (let next: string | undefined = `${bobActor.messages}?after=&limit=100`; next !== undefined; ) {
      const response = await fetch(next, {
        headers: { authorization: `Bearer ${input.token}`, accept: "application/activity+json" },
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
    // Twice from the same state, and the faster pass is the baseline: one pass varied by a quarter between
    // runs on this machine, and a slow one flattered the ratio.
    const bareDecrypt = async () => {
      let state: Conversation = decoded.value;
      const cpu = process.cpuUsage();
      const start = performance.now();
      let decrypted = 0;
      for (const envelope of envelopes) {
        const result = await processMessage(state, { bytes: envelope.bytes, published: envelope.published });
        if (result.ok) {
          state = result.value.conversation;
          decrypted++;
        }
      }
      return { decrypted, ms: performance.now() - start, cpuMs: cpuMs(process.cpuUsage(cpu)) };
    };
    const passes = [await bareDecrypt(), await bareDecrypt()];
    const { decrypted, ms: bareMs, cpuMs: bareCpuMs } = passes.reduce((a, b) => (b.ms < a.ms ? b : a));
    activities.length = 0;
    envelopes.length = 0;
    // The bare passes' garbage (10,000 states and envelopes) is collected now, not by the sync's first GC: a
    // sottod that starts a catch-up has no such heap behind it (sottod runs with --expose-gc, NODE_FLAGS).
    (globalThis as { gc?: (options: object) => void }).gc?.({ type: "major", execution: "sync" });

    const syncCpu = process.cpuUsage();
    const faults = process.resourceUsage().minorPageFault;
    const elu = performance.eventLoopUtilization();
    const threads = threadTimes();
    const serverThreads = threadTimes(input.serverPid);
    const gc = mainThreadGc();
    const phases = { started: 0, first: 0, tenth: 0 };
    const sync = async () => {
      const start = performance.now();
      await bob.start();
      phases.started = performance.now() - start;
      // Sampled every 2 ms: where the start ends and the steady pace begins.
      const sampler = setInterval(() => {
        const applied = bob.counters.get("appdata.message");
        if (phases.first === 0 && applied > 0) phases.first = performance.now() - start;
        if (phases.tenth === 0 && applied >= input.backlog / 10) phases.tenth = performance.now() - start;
      }, 2);
      await until(
        () => bob.counters.get("appdata.message") >= input.backlog,
        1_200_000,
        "bob syncs the backlog",
      ).finally(() => clearInterval(sampler));
      return performance.now() - start;
    };
    const syncMs = input.profile === undefined ? await sync() : await profiled(input.profile, sync);
    const syncCpuMs = cpuMs(process.cpuUsage(syncCpu));
    const syncFaults = process.resourceUsage().minorPageFault - faults;
    const syncElu = performance.eventLoopUtilization(elu).utilization;
    const syncThreads = threads();
    const serverCpuMs = Object.values(serverThreads()).reduce((sum, t) => sum + t.cpu_ms, 0);
    const mainGc = gc();
    const syncRate = (input.backlog / syncMs) * 1000;
    const bareRate = (decrypted / bareMs) * 1000;
    const syncCpuPerMsg = syncCpuMs / input.backlog;
    const bareCpuPerMsg = bareCpuMs / decrypted;
    emit({
      messages: input.backlog,
      sync_ms: round(syncMs, 1),
      sync_msgs_per_s: round(syncRate, 1),
      sync_cpu_ms_per_msg: round(syncCpuPerMsg, 4),
      bare_decrypt_msgs: decrypted,
      bare_decrypt_msgs_per_s: round(bareRate, 1),
      bare_cpu_ms_per_msg: round(bareCpuPerMsg, 4),
      sync_over_bare: round(syncRate / bareRate),
      sync_cpu_over_bare_cpu: round(bareCpuPerMsg / syncCpuPerMsg),
      sync_elu: round(syncElu),
      sync_minor_faults: syncFaults,
      sync_started_ms: round(phases.started, 1),
      sync_first_ms: round(phases.first, 1),
      sync_tenth_ms: round(phases.tenth, 1),
      decrypt_ahead_taken: bob.counters.get("decrypt_ahead.taken"),
      sync_threads: syncThreads,
      server_cpu_ms: serverCpuMs,
      main_gc: mainGc,
    });
  } finally {
    await bob.stop();
  }
}

/** Pauses of the main thread for garbage collection from now until the returned function is called. */
function mainThreadGc(): () => Record<string, { count: number; ms: number }> {
  const byKind: Record<string, { count: number; ms: number }> = {};
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
    [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
  };
  const count = (entries: readonly PerformanceEntry[]) => {
    for (const entry of entries) {
      const kind = kinds[(entry as unknown as { detail: { kind: number } }).detail.kind] ?? "other";
      const seen = byKind[kind] ?? { count: 0, ms: 0 };
      byKind[kind] = { count: seen.count + 1, ms: round(seen.ms + entry.duration, 1) };
    }
  };
  const observer = new PerformanceObserver((list) => count(list.getEntries()));
  observer.observe({ entryTypes: ["gc"] });
  return () => {
    count(observer.takeRecords());
    observer.disconnect();
    return byKind;
  };
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}
