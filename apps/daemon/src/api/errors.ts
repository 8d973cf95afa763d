import { SottoError } from "@sotto/core";

export type ApiServerErrorCode =
  | "non_loopback_bind" // asked to listen on an address other people can reach
  | "token_file_insecure" // the token file is readable by group or others
  | "bind_failed"; // the port is taken or the address does not exist

/** Raised when the API server cannot start safely; it never starts half-open. */
export class ApiServerError extends SottoError<ApiServerErrorCode> {}
