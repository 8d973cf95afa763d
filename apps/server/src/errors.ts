import { SottoError } from "@sotto/core";

/** Why the server refused a request; `status` is the HTTP answer, `code` the JSON `error` field. */
export type ServerErrorCode =
  | "body_too_large"
  | "malformed_json"
  | "invalid_activity"
  | "unsupported_activity"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "not_owner"
  | "recipient_unreachable"
  | "unknown_user"
  | "user_exists"
  | "invalid_username"
  | "invalid_config";

export class ServerError extends SottoError<ServerErrorCode> {
  readonly status: number;

  constructor(code: ServerErrorCode, message: string, status = 400) {
    super(code, message);
    this.status = status;
  }
}
