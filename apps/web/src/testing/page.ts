// Small helpers over Playwright for the browser tests and the bench: waits by condition, axe-core checks,
// screenshots for docs/web.md, logging in through `sotto web`.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Page } from "playwright-core";

/** Generous: the machine is shared and loaded. */
export const WAIT_MS = 90_000;

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe-core's WCAG 2 A/AA rules on the page as it is; returns the violations (rule id and where). */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (an inline tag would be refused).
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run(context: Document, options: object): Promise<AxeResult> } }
    ).axe;
    const result = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
}

interface AxeResult {
  violations: { id: string; nodes: { target: string[] }[] }[];
}

/** Writes a screenshot for docs/web.md when SOTTO_WEB_SCREENSHOTS names a directory (docs/web). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.SOTTO_WEB_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}

/** The login URL `sotto web --json` printed. */
export function loginUrl(cliOutput: string): string {
  const line = cliOutput.split("\n").find((l) => l.startsWith("{"));
  if (!line) throw new Error(`sotto web printed no JSON: ${cliOutput}`);
  return (JSON.parse(line) as { url: string }).url;
}
