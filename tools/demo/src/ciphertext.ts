import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { readEnvelope } from "@sotto/core";
import { DemoError } from "./errors.js";

/** One MLS envelope as the home server stores and serves it to the recipient. */
export interface StoredEnvelope {
  readonly activityId: string;
  readonly objectType: string;
  readonly mediaType: string;
  readonly encoding: string;
  /** The base64 MLS PrivateMessage: what the server has instead of the text. */
  readonly content: string;
}

const AS_JSON = "application/activity+json";

async function getJson(url: string, token?: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    headers: { accept: AS_JSON, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
  });
  if (!response.ok) throw new DemoError("exchange_failed", `GET ${url} answered ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

/**
 * The newest MLS application message in `actorId`'s `messages` collection on its server, read the way the
 * daemon reads it (owner-only, bearer token): the envelope exactly as the server holds it.
 */
export async function newestStoredMessage(actorId: string, token: string): Promise<StoredEnvelope> {
  const actor = await getJson(actorId);
  if (typeof actor.messages !== "string") {
    throw new DemoError("exchange_failed", `${actorId} has no messages collection`);
  }
  const collection = await getJson(actor.messages, token);
  const first = collection.first;
  const page = typeof first === "string" ? await getJson(first, token) : (first as Record<string, unknown>);
  const items = Array.isArray(page?.orderedItems) ? (page.orderedItems as unknown[]) : [];
  // Pages are newest first.
  for (const item of items) {
    const envelope = readEnvelope(item);
    if (!envelope.ok || envelope.value.kind !== "private_message") continue;
    const object = (item as { object: Record<string, unknown> }).object;
    return {
      activityId: envelope.value.activityId ?? "(no id)",
      objectType: envelope.value.objectType,
      mediaType: String(object.mediaType),
      encoding: String(object.encoding),
      content: String(object.content),
    };
  }
  throw new DemoError("exchange_failed", `no MLS PrivateMessage in ${actor.messages}`);
}

/** Searches every file of the server's data dir for `text`; the number of bytes searched and whether it was found. */
export async function searchFiles(dir: string, text: string): Promise<{ bytes: number; found: string[] }> {
  const needle = Buffer.from(text, "utf8");
  let bytes = 0;
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const data = await readFile(path).catch(() => undefined);
    if (data === undefined) continue;
    bytes += data.length;
    if (data.includes(needle)) found.push(path);
  }
  return { bytes, found };
}
