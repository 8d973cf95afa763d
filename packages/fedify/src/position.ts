import type { LogCollection } from "./collections.js";

/** The position of the item `id` names, through the log or the host's {@link LogCollection.cursor}. */
export async function positionOf(collection: LogCollection, id: string): Promise<number | undefined> {
  const item = await collection.log.find(collection.owner, id);
  return item?.seq ?? (await collection.cursor?.(id));
}
