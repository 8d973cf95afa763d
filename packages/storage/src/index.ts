// @sotto/storage: the encrypted, crash-safe local store of a Sotto daemon or gateway. See README.md.
export type { Durability } from "./database.js";
export { StorageError, type StorageErrorCode } from "./errors.js";
export { type ImportStoreOptions, importStore } from "./import-store.js";
export type { JsonValue } from "./json.js";
export { type Argon2idParams, DEFAULT_ARGON2ID, type StoreKey } from "./key.js";
export type * from "./records.js";
export {
  type ApplyOptions,
  type CommitInfo,
  type CommitListener,
  DEFAULT_HELD_LIMITS,
  type OpenStoreOptions,
  openStore,
  Store,
} from "./store.js";
