import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeConversation, generateDeviceIdentity, updateConversation } from "@sotto/core";
import { Daemon, type DaemonOptions } from "@sotto/daemon";
import { type SottoServer, startServer } from "@sotto/server";
import { emit, percentile, round } from "./report.js";
import { benchDaemonOptions } from "./support/daemons.js";
import { until } from "./support/processes.js";

const network = { allowPrivateAddress: true, plainHttpWebFinger: true } as const;
const HISTORY = 5;

/** Wall and CPU milliseconds of what `fn` waits for. */
async function timed(fn: () => Promise<void>): Promise<{ wallMs: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - t, cpuMs: (used.user + used.system) / 1000 };
}

export async function main(args: string[]): Promise<void> {
  const sizes = args.length > 0 ? args.map(Number) : [1, 10, 100];
  const dir = mkdtempSync(join(tmpdir(), "sotto-bench-devices-"));
  const daemons: Daemon[] = [];
  let server: SottoServer | undefined;
  const options = (name: string): DaemonOptions => ({
    ...benchDaemonOptions(dir, name),
    pollIntervalMs: 100,
    outbox: { baseDelayMs: 50, maxDelayMs: 500 },
    durability: "normal",
  });
  const init = async (name: string, actor: string, token: string) => {
    const daemon = await Daemon.init({ ...options(name), actor, token, network, deviceName: name });
    daemons.push(daemon);
    return daemon;
  };
  try {
    server = await startServer({ dataDir: join(dir, "server") });
    const bobUser = await server.createUser("bob");
    const bob = await init("bob", bobUser.actorId, bobUser.token);
    await bob.start();
    await bob.maintainKeyPackages();
    const rows: Record<string, unknown>[] = [];
    let commit: { p50WallMs: number; p50CpuMs: number } | undefined;
    for (const n of sizes) {
      const user = await server.createUser(`alice${n}`);
      const phone = await init(`phone${n}`, user.actorId, user.token);
      await phone.start();
      await phone.maintainKeyPackages();
      const chats: string[] = [];
      for (let i = 0; i < n; i++) {
        const { id } = await phone.createConversation({ members: [bob.actorId] });
        for (let m = 0; m < HISTORY; m++)
          await phone.sendMessage({ conversationId: id, text: `m${m} of ${i}` });
        chats.push(id);
      }
      await phone.flushOutbox();
      // Baseline: one commit of one of these conversations by @sotto/core alone (made, encoded), as many times.
      if (commit === undefined) {
        const record = phone.store.group(chats[0] as string);
        const decoded = decodeConversation(record?.state as Uint8Array);
        if (!decoded.ok) throw new Error("the conversation does not decode");
        const engine = {
          device: await generateDeviceIdentity(user.actorId),
          fetcher: { keyPackagesOf: async () => [] },
          time: new Date(),
        };
        const walls: number[] = [];
        const cpus: number[] = [];
        for (let i = 0; i < 30; i++) {
          const t = await timed(async () => {
            await updateConversation(engine, decoded.value);
          });
          walls.push(t.wallMs);
          cpus.push(t.cpuMs);
        }
        commit = { p50WallMs: percentile(walls, 50), p50CpuMs: percentile(cpus, 50) };
        emit({
          bench: "devices",
          baseline: "one commit",
          p50WallMs: round(commit.p50WallMs),
          p50CpuMs: round(commit.p50CpuMs),
        });
      }
      const { code } = phone.linkDevice();
      const laptop = await init(`laptop${n}`, user.actorId, user.token);
      await laptop.joinDevice({ code });
      await laptop.start();
      await laptop.flushOutbox();
      let id = "";
      await until(
        async () => {
          await phone.syncNow();
          id = phone.listDevices().devices.find((d) => d.link?.state === "requested")?.id ?? "";
          return id !== "";
        },
        60_000,
        "the link request",
      );
      let approved = 0;
      const approve = await timed(async () => {
        for (;;) {
          try {
            approved = (await phone.approveDevice({ id })).conversations;
            return;
          } catch {
            await phone.syncNow();
          }
        }
      });
      const joinedAll = () => laptop.listConversations().conversations.length >= n;
      const historyAll = () =>
        chats.every((c) => laptop.listMessages({ conversationId: c, limit: 500 }).messages.length >= HISTORY);
      const start = performance.now();
      const cpu = process.cpuUsage();
      await until(joinedAll, 600_000, `the laptop joins ${n} conversations`);
      const linkWall = performance.now() - start + approve.wallMs;
      const linkUsed = process.cpuUsage(cpu);
      const linkCpu = (linkUsed.user + linkUsed.system) / 1000 + approve.cpuMs;
      await until(historyAll, 600_000, "the laptop has the history");
      const used = process.cpuUsage(cpu);
      const historyWall = performance.now() - start + approve.wallMs;
      const historyCpu = (used.user + used.system) / 1000 + approve.cpuMs;
      const row = {
        bench: "devices",
        conversations: n,
        added: approved,
        historyMessages: n * HISTORY,
        approveWallMs: round(approve.wallMs),
        approveCpuMs: round(approve.cpuMs),
        linkWallMs: round(linkWall),
        linkCpuMs: round(linkCpu),
        historyWallMs: round(historyWall),
        historyCpuMs: round(historyCpu),
        linkPerConversationCpuMs: round(linkCpu / n),
        ratioLinkPerConversationToCommitCpu: round(linkCpu / n / commit.p50CpuMs, 2),
        ratioLinkPerConversationToCommitWall: round(linkWall / n / commit.p50WallMs, 2),
      };
      rows.push(row);
      emit(row);
      await laptop.stop();
      await phone.stop();
    }
    emit({
      bench: "devices",
      commitP50CpuMs: round(commit?.p50CpuMs ?? Number.NaN),
      commitP50WallMs: round(commit?.p50WallMs ?? Number.NaN),
      ...Object.fromEntries(
        rows.flatMap((r) => [
          [`link${r.conversations}CpuMs`, r.linkCpuMs],
          [`history${r.conversations}CpuMs`, r.historyCpuMs],
          [`ratio${r.conversations}`, r.ratioLinkPerConversationToCommitCpu],
        ]),
      ),
    });
  } finally {
    for (const daemon of daemons) await daemon.stop().catch(() => {});
    await server?.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
