import { SottoError } from "@sotto/core";

/** Why an MLS activity was refused; each maps to a 4xx answer. */
export type MlsDeliveryErrorCode =
  | "invalid_mls_object"
  | "addressed_to_public"
  | "addressed_to_collection"
  | "no_recipients"
  | "not_owner"
  | "credential_mismatch"
  | "unknown_key_package"
  | "key_package_deleted"
  | "unsupported_target";

export class MlsDeliveryError extends SottoError<MlsDeliveryErrorCode> {
  /** The HTTP status a server answers with. */
  readonly status: number;

  constructor(code: MlsDeliveryErrorCode, message: string, status = 400) {
    super(code, message);
    this.status = status;
  }
}

/** Why a database could not be opened or brought to the schema this code needs. */
export type DatabaseErrorCode =
  | "database_unreachable"
  | "invalid_database_url"
  | "schema_too_new"
  | "lock_timeout";

export class DatabaseError extends SottoError<DatabaseErrorCode> {}
