import { SottoError } from "@sotto/core";

export type DemoErrorCode =
  /** The command line asked for something the demo does not do. */
  | "bad_arguments"
  /** The data directory holds demo state this version cannot read. */
  | "bad_state"
  /** The embedded server's port (kept from the first run, since actor ids contain it) is taken. */
  | "port_in_use"
  /** A child process (sottod) exited or did not become ready in time. */
  | "daemon_failed"
  /** The demo conversation did not complete: the message did not arrive, or the server held plaintext. */
  | "exchange_failed";

/** Why the demo could not start or finish; the message says what to do. */
export class DemoError extends SottoError<DemoErrorCode> {}
