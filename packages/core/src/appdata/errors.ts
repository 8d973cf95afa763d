import { SottoError } from "../errors.js";

/** What can be wrong with decrypted application data, or with who sent it. */
export const APP_DATA_ERROR_CODES = [
  "invalid_utf8",
  "invalid_json",
  "not_an_object",
  "invalid_property",
  "https_id",
  "missing_id",
  "missing_object",
  "invalid_media",
  "too_large",
  "not_author",
  "original_unknown",
] as const;
export type AppDataErrorCode = (typeof APP_DATA_ERROR_CODES)[number];

export class AppDataError extends SottoError<AppDataErrorCode> {
  readonly path: string | undefined;

  constructor(code: AppDataErrorCode, message: string, path?: string) {
    super(code, path === undefined ? message : `${path}: ${message}`);
    this.path = path;
  }
}
