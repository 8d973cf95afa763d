// `npm run bench -- web [--messages N] [--events N]`: Sotto Web in Debian's Chromium against alice's real sottod
// (serving the page) and bob's daemon. Prints, in one run: navigation to an interactive conversation list; opening
// an N-message conversation (default 10,000) and how many message nodes the DOM holds, also after scrolling to
// its top; API event to painted message (performance marks in the page) p50/p99; the JS bundle gzipped. Baselines
// from the same run: the same reads and events through SottoClient in Node, without a page.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { SottoClient } from "@sotto/api";
import { readToken, tokenPath } from "@sotto/daemon/api";
import {
  bootMarks,
  createWebWorld,
  interactiveAt,
  launchChromium,
  loadedAt,
  loginUrl,
  openConversation,
  paintDurations,
  painted,
  scrollHistory,
  WEB_DIR,
} from "@sotto/web/testing";
import type { Page } from "playwright-core";
import { emit, percentile, round } from "./report.js";

const WAIT = 120_000;

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { messages: { type: "string", default: "10000" }, events: { type: "string", default: "50" } },
  });
  const messages = Number(values.messages);
  const events = Number(values.events);
  const bundle = readFileSync(join(WEB_DIR, "app.js"));
  const bundleGzipKb = round(gzipSync(bundle, { level: 9 }).length / 1024, 1);
  emit({ bench: "web", phase: "bundle", rawKb: round(bundle.length / 1024, 1), gzipKb: bundleGzipKb });

  const world = await createWebWorld();
  const chromium = await launchChromium();
  try {
    const [alice, bob] = await Promise.all([world.sottod("alice"), world.inProcess("bob")]);
    const aliceApi = await SottoClient.connect({
      url: alice.webUrl.replace("http", "ws"),
      token: await readToken(tokenPath(alice.dataDir)),
    });
    const { id: conversationId } = await retry(() =>
      bob.daemon.createConversation({ members: [alice.actorId] }),
    );

    // The long conversation: bob sends, alice's daemon receives and stores (the real path).
    const filled = performance.now();
    for (let i = 0; i < messages; i++) {
      await bob.daemon.sendMessage({ conversationId, text: `message ${i} ${"lorem ipsum ".repeat(i % 7)}` });
    }
    for (;;) {
      const list = await aliceApi.call("conversations.list").catch(() => ({ conversations: [] }));
      const page =
        list.conversations.length > 0
          ? await aliceApi.call("messages.list", { conversationId, limit: 1 })
          : undefined;
      if (page?.messages[0]?.content.includes(`message ${messages - 1} `)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    emit({ bench: "web", phase: "setup", messages, setupS: round((performance.now() - filled) / 1000, 1) });

    // Baseline: what the page's first reads cost through SottoClient in Node.
    const baseline = performance.now();
    await aliceApi.call("conversations.list");
    await aliceApi.call("messages.list", { conversationId, limit: 100 });
    const apiReadMs = round(performance.now() - baseline, 1);

    // Each run is a fresh document (about:blank first: a URL differing only in its fragment would not reload).
    const interactive: number[] = [];
    const context = await chromium.browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    let steps: Record<string, number> = {};
    for (let run = 0; run < 5; run++) {
      const url = loginUrl(await world.cli(alice.dataDir, ["web", "--json"]));
      await page.goto("about:blank");
      await page.goto(url);
      interactive.push(await interactiveAt(page, WAIT));
      steps = await bootMarks(page);
    }
    // A reload (same renderer, this tab's session): the renderer's main-thread busy time for the boot (CPU
    // time, which load distorts less than wall time), under the profiler when asked.
    const cdp = await context.newCDPSession(page);
    await cdp.send("Performance.enable");
    const busy = async () => {
      const { metrics } = await cdp.send("Performance.getMetrics");
      const of = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
      return { task: of("TaskDuration") * 1000, script: of("ScriptDuration") * 1000 };
    };
    const before = await busy();
    const reloadMs = await pageProfiled(page, "web-boot", async () => {
      await page.reload();
      return interactiveAt(page, WAIT);
    });
    const after = await busy();
    // Baseline: a navigation to one of the daemon's own small files (no script), in the same tab.
    const bare: number[] = [];
    for (let run = 0; run < 5; run++) {
      await page.goto("about:blank");
      await page.goto(new URL("app.css", alice.webUrl).href);
      bare.push(await loadedAt(page));
    }
    const interactiveMs = round(percentile(interactive, 50), 1);
    const bareMs = round(percentile(bare, 50), 1);
    emit({
      bench: "web",
      phase: "interactive",
      runs: interactive.map((t) => round(t, 1)),
      p50Ms: interactiveMs,
      lastRunStepsMs: steps,
      reloadMs: round(reloadMs, 1),
      reloadMainThreadBusyMs: round(after.task - before.task, 1),
      reloadScriptMs: round(after.script - before.script, 1),
      baselineBareNavigationP50Ms: bareMs,
      ratio: round(interactiveMs / bareMs, 2),
    });
    await page.goto(loginUrl(await world.cli(alice.dataDir, ["web", "--json"])));
    await interactiveAt(page, WAIT);

    const open = await pageProfiled(page, "web-open", () => openConversation(page, conversationId));
    const scrolled = await scrollHistory(page, 30);
    emit({
      bench: "web",
      phase: "open",
      messages,
      openMs: round(open.ms, 1),
      domNodes: open.nodes,
      domNodesWhileScrolling: scrolled,
      baselineApiReadMs: apiReadMs,
    });

    // Event to paint: bob sends one at a time; the page marks each event's arrival and measures its paint.
    // Baseline: the same event at a SottoClient in Node, which re-queries the message as the page does (event to
    // answer), in the same moment.
    const requery: number[] = [];
    aliceApi.onEvent((event) => {
      if (event.type !== "message.created") return;
      const arrived = performance.now();
      void aliceApi
        .call("messages.get", { conversationId, messageId: event.messageId })
        .then(() => requery.push(performance.now() - arrived));
    });
    await aliceApi.subscribe();
    for (let i = 0; i < events; i++) {
      const message = await bob.daemon.sendMessage({ conversationId, text: `live ${i}` });
      await painted(page, message.id, WAIT);
    }
    const paints = await paintDurations(page);
    const paintP50 = round(percentile(paints, 50), 1);
    const requeryP50 = round(percentile(requery, 50), 1);
    emit({
      bench: "web",
      phase: "event_to_paint",
      events: paints.length,
      p50Ms: paintP50,
      p99Ms: round(percentile(paints, 99), 1),
      baselineNodeEventToAnswerP50Ms: requeryP50,
      ratio: round(paintP50 / requeryP50, 2),
    });
    aliceApi.close();
    emit({
      bench: "web",
      headline: true,
      interactiveMs,
      openMs: round(open.ms, 1),
      domNodes: Math.max(open.nodes, scrolled),
      eventToPaintP50Ms: paintP50,
      eventToPaintP99Ms: round(percentile(paints, 99), 1),
      bundleGzipKb,
      targets: { interactiveMs: 1000, openMs: 500, domNodes: 200, eventToPaintP50Ms: 50, bundleGzipKb: 100 },
    });
  } finally {
    await chromium.close();
    await world.close();
  }
}

/**
 * Runs `fn`; with SOTTO_BENCH_PROFILE=<dir> set, under the page's V8 CPU profiler (through the
 * DevTools protocol), writing `<dir>/<name>.cpuprofile`.
 */
async function pageProfiled<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.SOTTO_BENCH_PROFILE;
  if (dir === undefined || dir === "") return fn();
  const session = await page.context().newCDPSession(page);
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: 200 });
  await session.send("Profiler.start");
  try {
    return await fn();
  } finally {
    const { profile } = await session.send("Profiler.stop");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    await session.detach();
  }
}

async function retry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt > 100) throw error;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}
