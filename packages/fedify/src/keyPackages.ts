import { err, type JsonObject, ok, type Result, readKeyPackageActivity } from "@sotto/core";
import { MlsDeliveryError } from "./errors.js";
import type { KeyPackageRecord, KeyPackageStore } from "./storage.js";

export interface KeyPackageLifecycleOptions {
  /** The actor posting the activity to its own outbox. */
  readonly actorId: string;
  /** That actor's `keyPackages` collection, the `target` of Add and Remove. */
  readonly collectionId: string;
  /**
   * The KeyPackage id another id stands for, when an activity names a KeyPackage by something else: the id of
   * the activity that created it (Emissary takes the `Location` of its Create for the KeyPackage's id), or a
   * client's own id the server replaced.
   */
  readonly resolveId?: (id: string) => Promise<string | undefined>;
}

type LifecycleResult = Result<KeyPackageRecord | undefined, MlsDeliveryError>;

const notOwner = (id: string) =>
  err(new MlsDeliveryError("not_owner", `${id} belongs to another actor`, 403));
const deleted = (id: string) => err(new MlsDeliveryError("key_package_deleted", `${id} was deleted`, 410));
const unknown = (id: string) => err(new MlsDeliveryError("unknown_key_package", `no KeyPackage ${id}`, 404));

/**
 * Applies a C2S activity to the KeyPackage directory: `Create` (which also lists it, as Emissary expects),
 * `Add` and `Remove` with the `keyPackages` collection as `target` (Bonfire embeds the object and matches a
 * Remove by content), `Delete`, and `Update` of an existing KeyPackage in place (Emissary). Answers
 * `ok(undefined)` for activities that are not about KeyPackages. Embedded objects must already carry their id
 * (the host assigns ids before this), except in a Remove matched by content.
 */
export async function applyKeyPackageActivity(
  store: KeyPackageStore,
  activity: JsonObject,
  options: KeyPackageLifecycleOptions,
): Promise<LifecycleResult> {
  const read = readKeyPackageActivity(activity);
  if (!read.ok) return ok(undefined);
  const { type, object, target } = read.value;
  const { actorId, collectionId } = options;
  const embedded = object.type === "embedded" ? object.object : undefined;
  const named =
    object.id ?? (type === "Remove" && embedded ? await byContent(store, actorId, embedded) : undefined);
  const { id, existing } = await find(store, named, options.resolveId);
  // A reference to something that is not a KeyPackage here: not a directory activity.
  if (embedded === undefined && existing === undefined) return ok(undefined);
  if (id === undefined)
    return err(new MlsDeliveryError("unknown_key_package", "the KeyPackage has no id", 404));
  if (existing !== undefined && existing.owner !== actorId) return notOwner(id);
  if (existing?.deleted) return deleted(id);

  switch (type) {
    case "Create":
    case "Update": {
      if (embedded === undefined) return ok(undefined);
      if (type === "Update" && existing === undefined) return unknown(id);
      return save(store, {
        id,
        owner: actorId,
        object: { ...embedded, id },
        listed: existing?.listed ?? true,
        deleted: false,
      });
    }
    case "Add":
    case "Remove": {
      if (target !== collectionId) {
        return err(
          new MlsDeliveryError("unsupported_target", `KeyPackages are added to ${collectionId} only`),
        );
      }
      if (existing === undefined) {
        if (type === "Remove" || embedded === undefined) return unknown(id);
        return save(store, { id, owner: actorId, object: { ...embedded, id }, listed: true, deleted: false });
      }
      return save(store, { ...existing, listed: type === "Add" });
    }
    case "Delete":
      if (existing === undefined) return unknown(id);
      return save(store, { ...existing, listed: false, deleted: true });
  }
}

/** The record `named` designates, directly or through `resolveId`; the id stays `named` when there is none. */
async function find(
  store: KeyPackageStore,
  named: string | undefined,
  resolveId: KeyPackageLifecycleOptions["resolveId"],
): Promise<{ id: string | undefined; existing: KeyPackageRecord | undefined }> {
  if (named === undefined) return { id: undefined, existing: undefined };
  const direct = await store.get(named);
  if (direct !== undefined || resolveId === undefined) return { id: named, existing: direct };
  const resolved = await resolveId(named);
  const existing = resolved === undefined ? undefined : await store.get(resolved);
  return existing === undefined ? { id: named, existing } : { id: existing.id, existing };
}

async function save(store: KeyPackageStore, record: KeyPackageRecord): Promise<LifecycleResult> {
  await store.put(record);
  return ok(record);
}

async function byContent(
  store: KeyPackageStore,
  owner: string,
  object: JsonObject,
): Promise<string | undefined> {
  const match = (await store.listed(owner)).find((r) => r.object.content === object.content);
  return match?.id;
}
