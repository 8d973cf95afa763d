// Spec §Activities: only the sender of a Create may Update or Delete its object, and only the sender of an
// activity may Undo it. The daemon looks up the original's author and asks here.
import { err, ok, type Result } from "../result.js";
import { AppDataError } from "./errors.js";
import { type ApplicationData, AUTHOR_ONLY_ACTIVITIES } from "./model.js";

/** The id of the object an Update/Delete/Undo changes; undefined for other data. */
export function modifiedObjectId(data: ApplicationData): string | undefined {
  if (data.type === "unsupported" || !AUTHOR_ONLY_ACTIVITIES.includes(data.type)) return undefined;
  const object = data.object;
  // Any member may change the conversation's title.
  if (object === undefined || object.form === "context") return undefined;
  return object.form === "reference" ? object.id : object.value.id;
}

/**
 * Checks the author rule. `sender` is the MLS sender's actor (its credential identity, not the claimed
 * `actor`); `originalAuthor` is the actor that sent the original, or undefined when it was never received.
 */
export function checkAuthorship(
  data: ApplicationData,
  sender: string,
  originalAuthor: string | undefined,
): Result<void, AppDataError> {
  const target = modifiedObjectId(data);
  if (target === undefined) return ok(undefined);
  if (originalAuthor === undefined) {
    return err(new AppDataError("original_unknown", `${data.type} of an object never received`, "object"));
  }
  if (originalAuthor !== sender) {
    return err(
      new AppDataError("not_author", `only the original author may ${data.type.toLowerCase()} it`, "object"),
    );
  }
  return ok(undefined);
}
