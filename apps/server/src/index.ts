// @sotto/server: sotto-server, a small ActivityPub home server with C2S and MLS key delivery. See README.md.
export { type Backend, type DatabaseOptions, openBackend } from "./backend.js";
export { ServerError, type ServerErrorCode } from "./errors.js";
export { type ServerOptions, type ServerRole, type SottoServer, startServer } from "./server.js";
export type { AccountStore, FollowedLog, Post, ServerStore } from "./store.js";
export { Users } from "./users.js";
