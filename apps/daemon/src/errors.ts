import { ActivityPubError } from "@sotto/activitypub";
import { ApiError } from "@sotto/api";
import { MlsEngineError } from "@sotto/core";
import { StorageError } from "@sotto/storage";

/** A failure to resolve or reach an actor, as the API names it. */
export function actorError(error: unknown, reference: string): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ActivityPubError) {
    if (
      error.code === "not_found" ||
      error.code === "gone" ||
      error.code === "invalid_url" ||
      error.code === "invalid_response"
    ) {
      return new ApiError(
        "actor_not_found",
        `cannot resolve ${reference.slice(0, 200)}: ${error.code}`,
        {},
        { cause: error },
      );
    }
    return new ApiError(
      "server_unavailable",
      `cannot reach the server for ${reference.slice(0, 200)}: ${error.code}`,
      {},
      { cause: error },
    );
  }
  return mlsToApi(error);
}

/** An MLS engine refusal, as the API names it. */
export function mlsToApi(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof MlsEngineError) {
    if (error.code === "authentication_failed")
      return new ApiError("no_key_package", error.message, {}, { cause: error });
    if (error.code === "not_member") return new ApiError("not_a_member", error.message, {}, { cause: error });
  }
  if (error instanceof ActivityPubError) return actorError(error, error.url ?? "");
  const tampered = storeToApi(error);
  if (tampered !== undefined) return tampered;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError("internal_error", message.slice(0, 300), {}, { cause: error });
}

/** A store value that failed authentication, as the API names it (`tampered`); `undefined` for anything else. */
export function storeToApi(error: unknown): ApiError | undefined {
  if (!(error instanceof StorageError) || error.code !== "tampered") return undefined;
  return new ApiError(
    "tampered",
    `the local store failed an integrity check (${error.message}); restore it from an export or set the account up again`,
    {},
    { cause: error },
  );
}
