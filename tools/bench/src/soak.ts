// `npm run bench -- soak [messages=100000]`: memory of a `sottod run` process (the bundle, NODE_FLAGS,
// PROGRAM_ENV, as users run it) that catches up on a backlog of `messages` application messages from a real
// sotto-server on loopback. Reports its RSS when ready, after the first tenth of the messages, at its peak and
// after the last one, and the growth from the tenth to the end (issue 20: within 20 MB); then once idle again
// (8 s after the last message), and the growth from ready to idle. Long; not in npm test.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SottoClient } from "@sotto/api";
import { decodeConversation } from "@sotto/core";
import { Daemon } from "@sotto/daemon";
import { readEndpoint, readToken, tokenPath } from "@sotto/daemon/api";
import { programArgs, programEnv } from "@sotto/daemon/programs";
import { emit, round } from "./report.js";
import { appendBacklog } from "./support/backlog.js";
import { benchDaemonOptions } from "./support/daemons.js";
import { rssKb, type ServerProcess, serverProcess, until } from "./support/processes.js";

const network = { allowPrivateAddress: true, plainHttpWebFinger: true } as const;

export async function main(args: string[]): Promise<void> {
  const total = Number(args[0] ?? 100_000);
  const tenth = Math.ceil(total / 10);
  const dir = mkdtempSync(join(tmpdir(), "sotto-bench-soak-"));
  let server: ServerProcess | undefined;
  let sottod: ChildProcess | undefined;
  let client: SottoClient | undefined;
  try {
    server = await serverProcess(join(dir, "server"), ["alice", "bob"]);
    const users = server.users as Record<"alice" | "bob", { actorId: string; token: string }>;
    const init = (name: "alice" | "bob") =>
      Daemon.init({
        ...benchDaemonOptions(dir, name),
        actor: users[name].actorId,
        token: users[name].token,
        network,
      });
    const alice = await init("alice");
    const bob = await init("bob");
    await alice.start();
    await bob.start();
    await bob.maintainKeyPackages();
    const conversation = await alice.createConversation({ members: [bob.actorId] });
    await until(() => bob.listConversations().conversations.length === 1, 60_000, "bob joins");
    // The event head before the catch-up: sottod may apply messages before the API client first asks.
    const head0 = bob.store.lastSeq;
    await bob.stop();
    const state = decodeConversation(alice.store.group(conversation.id)?.state as Uint8Array);
    if (!state.ok) throw state.error;
    await alice.stop();

    const posting = performance.now();
    await appendBacklog({
      conversation: state.value,
      actor: alice.actorId,
      serverDir: join(dir, "server"),
      owner: "bob",
      count: total,
      text: (i) => `soak message ${i} ${"lorem ipsum ".repeat(i % 7)}`,
    });
    emit({
      bench: "soak.backlog",
      messages: total,
      written_msgs_per_s: round((total / (performance.now() - posting)) * 1000, 1),
    });

    // Bob's sottod catches up; its progress is the API's event head (one message.created per message).
    const started = performance.now();
    sottod = spawn(
      process.execPath,
      programArgs("sottod", ["run", "--data", join(dir, "bob"), "--key-file", join(dir, "bob.key")]),
      { stdio: ["ignore", "ignore", "pipe"], env: programEnv() },
    );
    const child = sottod;
    await new Promise<void>((resolve, reject) => {
      let seen = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('"event":"sottod_ready"')) resolve();
      });
      child.once("exit", (code) => reject(new Error(`sottod exited (${code}): ${seen.slice(0, 500)}`)));
    });
    const pid = child.pid as number;
    const readyRss = rssKb(pid);
    const dataDir = join(dir, "bob");
    client = await SottoClient.connect({
      url: async () => (await readEndpoint(dataDir))?.url as string,
      token: () => readToken(tokenPath(dataDir)),
    });
    const api = client;
    let peak = readyRss;
    let atTenth: number | undefined;
    let done = 0;
    let nextSample = 0;
    await until(
      async () => {
        const rss = rssKb(pid);
        peak = Math.max(peak, rss);
        const status = await api.call("status");
        // The events count sync states as well: caught up is all of them and in sync.
        done = status.events.head - head0;
        if (atTenth === undefined && done >= tenth) atTenth = rss;
        if (done >= nextSample) {
          // Each tenth as it comes, so that a run cut short still tells how memory went.
          emit({
            bench: "soak.progress",
            messages: done,
            rss_mb: round(rss / 1024, 1),
            elapsed_s: round((performance.now() - started) / 1000, 1),
          });
          nextSample += tenth;
        }
        return done >= total && status.sync.state === "idle";
      },
      6 * 3600_000,
      "sottod catches up",
    );
    const syncMs = performance.now() - started;
    // Settled: what stays after the catch-up, 2 s later (as the idle figure of `bench daemon`).
    await new Promise((r) => setTimeout(r, 2_000));
    const endRss = rssKb(pid);
    peak = Math.max(peak, endRss);
    // Idle: the decrypt-ahead worker has ended (3 s without work) and the memory reducer has given the young
    // generation back (apps/daemon README, "A young generation that grows for a catch-up").
    await new Promise((r) => setTimeout(r, 6_000));
    const idleRss = rssKb(pid);
    emit({
      bench: "soak",
      messages: total,
      sync_msgs_per_s: round((total / syncMs) * 1000, 1),
      rss_ready_mb: round(readyRss / 1024, 1),
      rss_after_first_tenth_mb: round((atTenth as number) / 1024, 1),
      rss_peak_mb: round(peak / 1024, 1),
      rss_end_mb: round(endRss / 1024, 1),
      growth_tenth_to_end_mb: round((endRss - (atTenth as number)) / 1024, 1),
      rss_idle_after_mb: round(idleRss / 1024, 1),
      growth_ready_to_idle_mb: round((idleRss - readyRss) / 1024, 1),
    });
  } finally {
    client?.close();
    if (sottod !== undefined && sottod.exitCode === null) {
      const exited = new Promise((r) => sottod?.once("exit", r));
      sottod.kill("SIGTERM");
      await exited;
    }
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
