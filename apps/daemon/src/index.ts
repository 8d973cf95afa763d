// @sotto/daemon: sottod, the personal MLS device daemon. See README.md.
export { ActorDirectory, type ActorDirectoryOptions, type ListedKeyPackage } from "./actors.js";
export type { Attachment } from "./appdata.js";
export type { AccountSettings, NetworkSettings } from "./context.js";
export { Counters } from "./counters.js";
export {
  Daemon,
  DaemonError,
  type DaemonOptions,
  type InitOptions,
  type SendOptions,
  STORE_FILE,
  VERSION,
} from "./daemon.js";
export { event } from "./events.js";
export { type KeySource, KeySourceError, keySourceFromArgs } from "./keySource.js";
export { createLogger, errorFields, type LogFields, type Logger, type LogLevel } from "./log.js";
