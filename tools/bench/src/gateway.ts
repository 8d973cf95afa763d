// Gateway: latency and throughput through sotto-xmpp on loopback. An XMPP user (a private Prosody,
// @xmpp/client) and a Fediverse user (sottod on a sotto-server) talk through the gateway (sotto-xmpp: component +
// its own sotto-server + an MLS puppet). Baselines, same run: a bare XMPP client -> client message through the
// same Prosody, and a sottod -> sottod message between two sotto-servers (the bridged path also crosses two: the
// gateway's and the peer's), so the second ratio is what the bridge itself adds.
// As deployed, each party runs in its own process: the gateway (`sotto-xmpp`), each sotto-server
// (`sotto-server run`), Prosody; the sottods run in this one. So the CPU per message is reported per process,
// and the gateway's figure is its own (SOTTO_BENCH_PROFILE=DIR writes CPU profiles of the gateway and servers).
// Latency is measured one message at a time; throughput under a burst (n back to back, each direction), with
// each burst message's own latency.
//   npm run bench -- gateway [--n 100]
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalApplicationId } from "@sotto/core";
import { jidForHandle } from "@sotto/gateway";
import {
  type Home,
  loginUser,
  startGatewayProcess,
  startProsody,
  startSottod,
  waitFor,
  xml,
} from "@sotto/gateway/testing";
import { addUser, freePort, startServerProcess } from "@sotto/server/testing";
import { emit, percentile, profileArgs, round } from "./report.js";

function arg(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(`--${name}`);
  const value = at >= 0 ? Number(args[at + 1]) : Number.NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** A `sotto-server run` process on a fresh SQLite directory, with `user` added (by its CLI) before it starts. */
async function startHome(
  dir: string,
  user: string,
): Promise<Home & { domain: string; cpuMs(): number; stop(): Promise<unknown> }> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const env = { SOTTO_DATA_DIR: dir, SOTTO_PORT: String(port) };
  const account = await addUser(env, origin, user);
  const server = await startServerProcess({ env, nodeArgs: profileArgs() });
  return {
    domain: new URL(origin).host,
    createUser: async (name) => {
      if (name !== user) throw new Error(`this server has only ${user}`);
      return account;
    },
    cpuMs: () => server.cpuMs(),
    stop: () => server.stop(),
  };
}

function stats(name: string, samples: readonly number[]) {
  return {
    [`${name}_p50_ms`]: round(percentile(samples, 50)),
    [`${name}_p99_ms`]: round(percentile(samples, 99)),
  };
}

export async function main(args: string[]): Promise<void> {
  const n = arg(args, "n", 100);
  const dir = mkdtempSync(join(tmpdir(), "sotto-bench-gateway-"));
  const prosody = await startProsody();
  const cleanups: (() => Promise<unknown>)[] = [() => prosody.stop()];
  try {
    prosody.register("alice", "pw-alice");
    prosody.register("carol", "pw-carol");
    const alice = await loginUser(prosody, "alice");
    cleanups.unshift(() => alice.stop());
    const carol = await loginUser(prosody, "carol");
    cleanups.unshift(() => carol.stop());

    // Baseline: alice -> carol through Prosody, one at a time, then n back to back.
    const xmppToXmpp: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = `base-${i}`;
      const t = performance.now();
      await alice.send(
        xml("message", { type: "chat", to: carol.bare, id }, xml("body", {}, `baseline ${i}`)),
      );
      await carol.next((s) => s.attrs.id === id);
      xmppToXmpp.push(performance.now() - t);
    }
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      await alice.send(
        xml("message", { type: "chat", to: carol.bare, id: `burst-${i}` }, xml("body", {}, `burst ${i}`)),
      );
    }
    await carol.next((s) => s.attrs.id === `burst-${n - 1}`, 60_000);
    const baselineRate = n / ((performance.now() - t0) / 1000);
    emit({
      bench: "gateway",
      part: "baseline xmpp client -> client",
      n,
      ...stats("latency", xmppToXmpp),
      msgs_per_s: round(baselineRate, 1),
    });

    // The Fediverse users (each on a server process of its own) and the gateway (a process of its own).
    const home = await startHome(join(dir, "home"), "bob");
    cleanups.unshift(() => home.stop());
    const home2 = await startHome(join(dir, "home2"), "dave");
    cleanups.unshift(() => home2.stop());
    const gateway = await startGatewayProcess({
      prosody,
      dir: join(dir, "gateway"),
      nodeArgs: profileArgs(),
    });
    cleanups.unshift(() => gateway.stop());
    const { daemon: bob } = await startSottod(home, "bob", join(dir, "bob"));
    cleanups.unshift(() => bob.stop());
    const bobJid = jidForHandle(`bob@${home.domain}`, prosody.componentDomain);
    // Second baseline: dave (a sottod on another server) -> bob, one at a time.
    const { daemon: dave } = await startSottod(home2, "dave", join(dir, "dave"));
    cleanups.unshift(() => dave.stop());

    // Bob's device reports each new message as a store commit: resolve waiters from there.
    const seen = new Map<string, number>();
    const waiters = new Map<string, () => void>();
    bob.store.onCommit((info) => {
      for (const e of info.events) {
        if (e.type !== "message.created") continue;
        const data = e.data as { conversationId: string; messageId: string };
        // Bob's own messages (the daemon -> XMPP bursts) are skipped on the stored row: the bench's own reads
        // share the machine's two cores with what it measures.
        if (bob.store.message(canonicalApplicationId(data.messageId))?.author === bob.actorId) continue;
        const m = bob.getMessage(data.conversationId, data.messageId);
        const tag = /tag-([a-z0-9]+)/.exec(m.content)?.[1];
        if (!tag) continue;
        seen.set(tag, performance.now());
        waiters.get(tag)?.();
      }
    });
    const bobGets = (tag: string, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        if (seen.has(tag)) return resolve();
        const timer = setTimeout(() => reject(new Error(`bob never got ${tag}`)), timeoutMs);
        waiters.set(tag, () => {
          clearTimeout(timer);
          resolve();
        });
      });

    const daveConversation = (await dave.createConversation({ members: [bob.actorId] })).id;
    await dave.sendMessage({ conversationId: daveConversation, text: "tag-dwarm" });
    await bobGets("dwarm");
    const daemonToDaemon: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await dave.sendMessage({ conversationId: daveConversation, text: `tag-dd${i}` });
      await bobGets(`dd${i}`);
      daemonToDaemon.push(performance.now() - t);
    }
    emit({ bench: "gateway", part: "baseline sottod -> sottod", n, ...stats("latency", daemonToDaemon) });

    // Warm-up: the first message creates the puppet, the MLS group and the Welcome.
    await alice.send(xml("message", { type: "chat", to: bobJid, id: "warm" }, xml("body", {}, "tag-warm")));
    await bobGets("warm");
    const conversationId = await waitFor(
      "bob's conversation",
      () => bob.listConversations().conversations[0]?.id,
    );

    const xmppToDaemon: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await alice.send(
        xml("message", { type: "chat", to: bobJid, id: `x-${i}` }, xml("body", {}, `tag-x${i}`)),
      );
      await bobGets(`x${i}`);
      xmppToDaemon.push(performance.now() - t);
    }
    const daemonToXmpp: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const sent = await bob.sendMessage({ conversationId, text: `d-${i}` });
      await alice.next((s) => s.attrs.id === sent.id, 30_000);
      daemonToXmpp.push(performance.now() - t);
    }
    emit({ bench: "gateway", part: "one at a time xmpp -> daemon", n, ...stats("latency", xmppToDaemon) });
    emit({ bench: "gateway", part: "one at a time daemon -> xmpp", n, ...stats("latency", daemonToXmpp) });

    // Bursts: n messages sent back to back, each direction. Throughput = n / (last arrival - first send);
    // each message's latency = its arrival - its send (mostly waiting behind the others); CPU per message of
    // each process: the gateway, bob's server, and this one (the sottods: bob's and, idle, dave's).
    const burst = async (
      send: (i: number) => Promise<{ readonly arrived: Promise<number> }>,
    ): Promise<{ perSecond: number; latencies: number[]; cpuMs: Record<string, number> }> => {
      const cpu = process.cpuUsage();
      const gatewayCpu = gateway.cpuMs();
      const serverCpu = home.cpuMs();
      const start = performance.now();
      const sentAt: number[] = [];
      const arrivals: Promise<number>[] = [];
      for (let i = 0; i < n; i++) {
        sentAt.push(performance.now());
        const { arrived } = await send(i);
        arrived.catch(() => undefined); // awaited below; a late one must not be an unhandled rejection first
        arrivals.push(arrived);
      }
      const arrivedAt = await Promise.all(arrivals);
      const used = process.cpuUsage(cpu);
      return {
        perSecond: n / ((Math.max(...arrivedAt) - start) / 1000),
        latencies: arrivedAt.map((t, i) => t - (sentAt[i] as number)),
        cpuMs: {
          gateway: (gateway.cpuMs() - gatewayCpu) / n,
          bob_server: (home.cpuMs() - serverCpu) / n,
          sottods: (used.user + used.system) / 1000 / n,
        },
      };
    };
    const toDaemon = await burst(async (i) => {
      await alice.send(
        xml("message", { type: "chat", to: bobJid, id: `bx-${i}` }, xml("body", {}, `tag-bx${i}`)),
      );
      return { arrived: bobGets(`bx${i}`, 120_000).then(() => seen.get(`bx${i}`) as number) };
    });
    const toXmpp = await burst(async (i) => {
      const { id } = await bob.sendMessage({ conversationId, text: `bd-${i}` });
      return { arrived: alice.next((s) => s.attrs.id === id, 120_000).then(() => performance.now()) };
    });
    const toDaemonRate = toDaemon.perSecond;
    const toXmppRate = toXmpp.perSecond;
    for (const [part, b] of [
      ["burst xmpp -> daemon", toDaemon],
      ["burst daemon -> xmpp", toXmpp],
    ] as const) {
      emit({
        bench: "gateway",
        part,
        n,
        msgs_per_s: round(b.perSecond, 1),
        ...stats("latency", b.latencies),
        ...Object.fromEntries(
          Object.entries(b.cpuMs).map(([p, ms]) => [`cpu_ms_per_msg_${p}`, round(ms, 2)]),
        ),
        load: round(loadavg()[0] as number, 1),
      });
    }

    const base50 = percentile(xmppToXmpp, 50);
    emit({
      bench: "gateway",
      n,
      baseline_xmpp_p50_ms: round(base50),
      baseline_xmpp_p99_ms: round(percentile(xmppToXmpp, 99)),
      baseline_msgs_per_s: round(baselineRate, 1),
      baseline_sottod_p50_ms: round(percentile(daemonToDaemon, 50)),
      baseline_sottod_p99_ms: round(percentile(daemonToDaemon, 99)),
      xmpp_to_daemon_p50_ms: round(percentile(xmppToDaemon, 50)),
      xmpp_to_daemon_p99_ms: round(percentile(xmppToDaemon, 99)),
      daemon_to_xmpp_p50_ms: round(percentile(daemonToXmpp, 50)),
      daemon_to_xmpp_p99_ms: round(percentile(daemonToXmpp, 99)),
      xmpp_to_daemon_msgs_per_s: round(toDaemonRate, 1),
      daemon_to_xmpp_msgs_per_s: round(toXmppRate, 1),
      xmpp_to_daemon_burst_p50_ms: round(percentile(toDaemon.latencies, 50)),
      xmpp_to_daemon_burst_p99_ms: round(percentile(toDaemon.latencies, 99)),
      daemon_to_xmpp_burst_p50_ms: round(percentile(toXmpp.latencies, 50)),
      daemon_to_xmpp_burst_p99_ms: round(percentile(toXmpp.latencies, 99)),
      xmpp_to_daemon_gateway_cpu_ms_per_msg: round(toDaemon.cpuMs.gateway as number, 2),
      daemon_to_xmpp_gateway_cpu_ms_per_msg: round(toXmpp.cpuMs.gateway as number, 2),
      load: round(loadavg()[0] as number, 1),
      ratio_xmpp_to_daemon_p50: round(percentile(xmppToDaemon, 50) / base50, 1),
      ratio_daemon_to_xmpp_p50: round(percentile(daemonToXmpp, 50) / base50, 1),
      ratio_xmpp_to_daemon_vs_sottod_p50: round(
        percentile(xmppToDaemon, 50) / percentile(daemonToDaemon, 50),
        2,
      ),
      ratio_daemon_to_xmpp_vs_sottod_p50: round(
        percentile(daemonToXmpp, 50) / percentile(daemonToDaemon, 50),
        2,
      ),
      ratio_throughput_xmpp_to_daemon: round(baselineRate / toDaemonRate, 1),
    });
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
