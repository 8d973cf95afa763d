import { err, ok, type Result } from "@sotto/core";
import { MlsDeliveryError } from "./errors.js";
import { idOf, isJsonObject, type JsonObject, prop, typesOf } from "./json.js";
import type { KeyPackageRecord, KeyPackageStore } from "./storage.js";

export interface KeyPackageLifecycleOptions {
  /** The actor posting the activity to its own outbox. */
  readonly actorId: string;
  /** That actor's `keyPackages` collection, the `target` of Add and Remove. */
  readonly collectionId: string;
}

type LifecycleResult = Result<KeyPackageRecord | undefined, MlsDeliveryError>;

function isKeyPackage(value: unknown): value is JsonObject {
  return isJsonObject(value) && typesOf(value).includes("KeyPackage");
}

async function owned(
  store: KeyPackageStore,
  id: string,
  actorId: string,
): Promise<Result<KeyPackageRecord, MlsDeliveryError>> {
  const record = await store.get(id);
  if (record === undefined)
    return err(new MlsDeliveryError("unknown_key_package", `no KeyPackage ${id}`, 404));
  if (record.owner !== actorId)
    return err(new MlsDeliveryError("not_owner", `${id} belongs to another actor`, 403));
  return ok(record);
}

async function save(store: KeyPackageStore, record: KeyPackageRecord): Promise<LifecycleResult> {
  await store.put(record);
  return ok(record);
}

/**
 * Applies a C2S activity to the KeyPackage directory: `Create` (which also lists it, as Emissary expects),
 * `Add` and `Remove` with the `keyPackages` collection as `target` (Bonfire embeds the object and matches a
 * Remove by content), `Delete`, and `Update` of an existing KeyPackage in place (Emissary). Answers
 * `ok(undefined)` for activities that are not about KeyPackages. Embedded objects must already carry their id.
 */
export async function applyKeyPackageActivity(
  store: KeyPackageStore,
  activity: JsonObject,
  options: KeyPackageLifecycleOptions,
): Promise<LifecycleResult> {
  const { actorId, collectionId } = options;
  const [type] = typesOf(activity);
  const object = activity.object;
  const objectId = idOf(object);

  if (type === "Create" || type === "Update") {
    if (!isKeyPackage(object) || objectId === undefined) return ok(undefined);
    const existing = await store.get(objectId);
    if (existing?.owner !== undefined && existing.owner !== actorId) {
      return err(new MlsDeliveryError("not_owner", `${objectId} belongs to another actor`, 403));
    }
    if (existing?.deleted)
      return err(new MlsDeliveryError("key_package_deleted", `${objectId} was deleted`, 410));
    if (type === "Update" && existing === undefined) {
      return err(new MlsDeliveryError("unknown_key_package", `no KeyPackage ${objectId} to update`, 404));
    }
    return save(store, {
      id: objectId,
      owner: actorId,
      object,
      listed: existing?.listed ?? true,
      deleted: false,
    });
  }

  if (type === "Add" || type === "Remove") {
    if (!isKeyPackage(object) && (objectId === undefined || (await store.get(objectId)) === undefined)) {
      return ok(undefined);
    }
    if (idOf(activity.target) !== collectionId) {
      return err(new MlsDeliveryError("unsupported_target", `KeyPackages are added to ${collectionId} only`));
    }
    const id =
      objectId ??
      (type === "Remove" && isKeyPackage(object) ? await byContent(store, actorId, object) : undefined);
    if (id === undefined) return err(new MlsDeliveryError("unknown_key_package", "no such KeyPackage", 404));
    const existing = await store.get(id);
    if (existing === undefined && type === "Add" && isKeyPackage(object)) {
      return save(store, { id, owner: actorId, object, listed: true, deleted: false });
    }
    const record = await owned(store, id, actorId);
    if (!record.ok) return record;
    if (record.value.deleted)
      return err(new MlsDeliveryError("key_package_deleted", `${id} was deleted`, 410));
    return save(store, { ...record.value, listed: type === "Add" });
  }

  if (type === "Delete") {
    if (objectId === undefined || (await store.get(objectId)) === undefined) return ok(undefined);
    const record = await owned(store, objectId, actorId);
    if (!record.ok) return record;
    return save(store, { ...record.value, listed: false, deleted: true });
  }
  return ok(undefined);
}

async function byContent(
  store: KeyPackageStore,
  owner: string,
  object: JsonObject,
): Promise<string | undefined> {
  const content = prop(object, "content");
  const match = (await store.listed(owner)).find((r) => prop(r.object, "content") === content);
  return match?.id;
}
