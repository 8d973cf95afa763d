import { SottoError } from "@sotto/core";

/**
 * What can go wrong opening or using a store. Every failure is one of these; none of them ever
 * leads to serving unauthenticated or plaintext data.
 */
export type StorageErrorCode =
  /** The passphrase, key file or credential does not unwrap this store's data key. */
  | "wrong_key"
  /** A stored value failed authentication: changed, or moved from another row or column. */
  | "tampered"
  /** The file is not a readable SQLite database (truncated, overwritten, not a Sotto store). */
  | "corrupt"
  /** Another connection (in this or another process) holds the store's single-writer lock. */
  | "locked"
  /** A key file is readable by group or others (it must be mode 0600 or stricter). */
  | "key_file_permissions"
  /** No key material where it was expected (missing key file, `$CREDENTIALS_DIRECTORY` unset, ...). */
  | "key_missing"
  /** The store was written by a newer Sotto (schema version unknown to this one). */
  | "newer_schema"
  /** A unit of work broke a rule of the schema (missing field, wrong kind of value). */
  | "invalid_unit"
  /** The store is closed. */
  | "closed"
  /** A file the operation would create already exists. */
  | "exists"
  /** The store (or export) to open does not exist and was not to be created. */
  | "not_found"
  /** Reading or writing the file failed at the operating-system level. */
  | "io";

export class StorageError extends SottoError<StorageErrorCode> {}
