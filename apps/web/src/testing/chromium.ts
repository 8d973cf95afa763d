// Debian's Chromium for the browser tests and the bench: installed with apt-get when missing (we run as root,
// as for Prosody), launched headless with a fresh profile and nothing that phones home.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

const INSTALL_HINT =
  "Chromium (the Debian package) is needed for the web UI's tests: run `sudo apt-get install -y chromium` " +
  "(or run the tests as root, which installs it).";

export class ChromiumError extends Error {
  override readonly name = "ChromiumError";
}

function installed(): boolean {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Makes sure /usr/bin/chromium exists: installs the Debian package when root, else explains how. */
export function ensureChromium(): string {
  if (installed()) return CHROMIUM;
  if (process.getuid?.() !== 0) throw new ChromiumError(`${CHROMIUM} is missing. ${INSTALL_HINT}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const lock = ["-o", "DPkg::Lock::Timeout=300"];
  for (const args of [
    [...lock, "update"],
    [...lock, "install", "-y", "chromium"],
  ]) {
    const run = spawnSync("apt-get", args, { env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
    if (run.status !== 0) {
      throw new ChromiumError(`apt-get ${args.join(" ")} failed: ${run.stderr.slice(-500)}. ${INSTALL_HINT}`);
    }
  }
  if (!installed())
    throw new ChromiumError(`${CHROMIUM} still missing after apt-get install. ${INSTALL_HINT}`);
  return CHROMIUM;
}

export interface LaunchedBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

/**
 * Headless Chromium. Playwright gives each launch a fresh --user-data-dir of its own (in the temp dir, removed
 * on close; it refuses the flag from us), so no state leaks between runs.
 */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const executablePath = ensureChromium();
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 120_000,
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
    },
  };
}
