// Measurements taken inside the page (for tools/bench, whose own code has no DOM types): the page's performance
// marks and what its DOM holds.
import type { Page } from "playwright-core";

/** When the conversation list became interactive, in ms from navigation start (mark `sotto:interactive`). */
export async function interactiveAt(page: Page, timeoutMs: number): Promise<number> {
  await page.waitForFunction(() => performance.getEntriesByName("sotto:interactive").length > 0, null, {
    timeout: timeoutMs,
  });
  return page.evaluate(() => performance.getEntriesByName("sotto:interactive")[0]?.startTime ?? Number.NaN);
}

/**
 * The boot's steps in ms from navigation start: the page and its files received (`html`, `css`, `js`), then the
 * marks `sotto:boot` (the bundle evaluated), `:session`, `:connected`, `:loaded`, `:interactive`.
 */
export function bootMarks(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const steps: Record<string, number> = {};
    const [navigation] = performance.getEntriesByType("navigation") as PerformanceNavigationTiming[];
    if (navigation) steps.html = Math.round(navigation.responseEnd);
    for (const r of performance.getEntriesByType("resource") as PerformanceResourceTiming[]) {
      const file = /\/app\.(js|css)$/.exec(r.name)?.[1];
      if (file) steps[file] = Math.round(r.responseEnd);
    }
    for (const m of performance.getEntriesByType("mark")) {
      if (/^sotto:(boot|session|connected|loaded|interactive)$/.test(m.name))
        steps[m.name.slice(6)] = Math.round(m.startTime);
    }
    return steps;
  });
}

/** When the document finished loading (`loadEventEnd`), in ms from navigation start: the bench's baseline. */
export function loadedAt(page: Page): Promise<number> {
  return page.evaluate(() => {
    const [navigation] = performance.getEntriesByType("navigation") as PerformanceNavigationTiming[];
    return navigation?.loadEventEnd ?? Number.NaN;
  });
}

/** Clicks a conversation and times it until its first messages are painted; counts the message nodes. */
export function openConversation(page: Page, conversationId: string): Promise<{ ms: number; nodes: number }> {
  return page.evaluate(async (id) => {
    const start = performance.now();
    (document.querySelector(`[data-conversation="${id}"]`) as HTMLElement).click();
    for (;;) {
      await new Promise((r) => requestAnimationFrame(r));
      if (document.querySelectorAll("[data-message]").length > 0) break;
    }
    return { ms: performance.now() - start, nodes: document.querySelectorAll("[data-message]").length };
  }, conversationId);
}

/** Scrolls to the top `times` times (older pages load on the way); the most message nodes seen at once. */
export function scrollHistory(page: Page, times: number): Promise<number> {
  return page.evaluate(async (n) => {
    const scroller = document.querySelector(".scroller") as HTMLElement;
    let most = 0;
    for (let i = 0; i < n; i++) {
      scroller.scrollTop = 0;
      await new Promise((r) => setTimeout(r, 100));
      most = Math.max(most, document.querySelectorAll("[data-message]").length);
    }
    scroller.scrollTop = scroller.scrollHeight;
    return most;
  }, times);
}

/** Waits until the message's event-to-paint measure exists. */
export async function painted(page: Page, messageId: string, timeoutMs: number): Promise<void> {
  await page.waitForFunction(
    (id) => performance.getEntriesByName(`sotto:paint:${id}`).length > 0,
    messageId,
    {
      timeout: timeoutMs,
    },
  );
}

/** Every event-to-paint duration measured so far (ms). */
export function paintDurations(page: Page): Promise<number[]> {
  return page.evaluate(() =>
    performance
      .getEntriesByType("measure")
      .filter((m) => m.name.startsWith("sotto:paint:"))
      .map((m) => m.duration),
  );
}

/** What hostile peer content could have left in the page: zero of each (and `pwned` unset) when it left nothing. */
export function hostileTraces(page: Page): Promise<{
  pwned: unknown;
  scripts: number;
  handlers: number;
  javascriptLinks: number;
  overflow: number;
}> {
  return page.evaluate(() => ({
    pwned: (window as { __pwned?: unknown }).__pwned,
    scripts: document.querySelectorAll("main script").length,
    handlers: document.querySelectorAll("main [onerror]").length,
    javascriptLinks: [...document.querySelectorAll("main a")].filter((a) =>
      /^javascript:/i.test(a.getAttribute("href") ?? ""),
    ).length,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  }));
}

/** The page left nothing behind (see `hostileTraces`). */
export const NO_TRACES = {
  pwned: undefined,
  scripts: 0,
  handlers: 0,
  javascriptLinks: 0,
  overflow: 0,
} as const;
