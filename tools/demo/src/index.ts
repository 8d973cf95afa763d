// @sotto/demo: what `npm start` runs (see README.md). Exported for reuse by tests and tools.
export { type DemoOptions, parseDemoArgs, USAGE } from "./args.js";
export { type AccountView, type BannerInput, banner, shellQuote, tryCommands } from "./banner.js";
export { newestStoredMessage, type StoredEnvelope, searchFiles } from "./ciphertext.js";
export { daemonBinaries, type RunningDaemon, readableLogLine, startDaemon } from "./daemonProcess.js";
export { DemoError, type DemoErrorCode } from "./errors.js";
export { type Exchange, sendFirstMessage } from "./exchange.js";
export { type AccountName, type AccountPaths, type Layout, layout } from "./layout.js";
export { type Monitor, type MonitorOptions, monitorDaemon } from "./monitor.js";
export { type Running, startAll } from "./orchestrator.js";
export { Teardown } from "./teardown.js";
