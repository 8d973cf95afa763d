// @sotto/server: sotto-server, a small ActivityPub home server with C2S and MLS key delivery. See README.md.
export { ServerError, type ServerErrorCode } from "./errors.js";
export { type ServerOptions, type SottoServer, startServer } from "./server.js";
export { Users } from "./users.js";
