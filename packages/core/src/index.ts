export * from "./appdata/index.js";
export * from "./envelope/index.js";
export { SottoError } from "./errors.js";
export * from "./fingerprint/index.js";
export * from "./mls/index.js";
export { err, ok, type Result } from "./result.js";
export * from "./vocab/index.js";
