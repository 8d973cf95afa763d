// What the browser tests share with tools/bench: Chromium, the real parts on loopback, page helpers.
export { CHROMIUM, ChromiumError, ensureChromium, type LaunchedBrowser, launchChromium } from "./chromium.js";
export { axeViolations, loginUrl, screenshot, WAIT_MS } from "./page.js";
export {
  bootMarks,
  interactiveAt,
  loadedAt,
  openConversation,
  paintDurations,
  painted,
  scrollHistory,
} from "./probes.js";
export { createWebWorld, type InProcess, type Sottod, WEB_DIR, type WebWorld } from "./world.js";
