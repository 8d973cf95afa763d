import { ACTIVITYSTREAMS_CONTEXT, asList, type JsonObject, MLS_CONTEXT } from "@sotto/core";
import { jsonResponse } from "./responses.js";
import type { KeyPackageStore } from "./storage.js";

/**
 * The actor's public `keyPackages` collection: a Collection whose items are the KeyPackage objects themselves,
 * so a client gets every package in one request (the AS of the spec only needs them to be items).
 */
export async function respondWithKeyPackages(
  store: KeyPackageStore,
  collection: { readonly owner: string; readonly id: string },
): Promise<Response> {
  const listed = await store.listed(collection.owner);
  return jsonResponse({
    "@context": [ACTIVITYSTREAMS_CONTEXT, MLS_CONTEXT],
    id: collection.id,
    type: "Collection",
    attributedTo: collection.owner,
    totalItems: listed.length,
    items: listed.map((r) => withoutContext(r.object)),
  });
}

/** A KeyPackage by its id: the object, a Tombstone (410) once deleted, or undefined when there is none. */
export async function respondWithKeyPackage(
  store: KeyPackageStore,
  id: string,
): Promise<Response | undefined> {
  const record = await store.get(id);
  if (record === undefined) return undefined;
  if (record.deleted) {
    return jsonResponse(
      { "@context": ACTIVITYSTREAMS_CONTEXT, id, type: "Tombstone", formerType: "KeyPackage" },
      410,
    );
  }
  return jsonResponse({
    "@context": [ACTIVITYSTREAMS_CONTEXT, MLS_CONTEXT],
    ...withoutContext(record.object),
  });
}

function withoutContext(object: JsonObject): JsonObject {
  const { "@context": _, ...rest } = object;
  return rest;
}

/**
 * Adds the MLS properties to an actor document Fedify rendered (its vocabulary has no `keyPackages` or
 * `messages`), with the MLS context, and the host's own `extra` properties.
 */
export function addMlsToActor(
  actor: JsonObject,
  links: { readonly keyPackages: string; readonly messages: string },
  extra: JsonObject = {},
): JsonObject {
  const context = asList(actor["@context"]);
  return {
    ...actor,
    ...extra,
    "@context": context.includes(MLS_CONTEXT) ? context : [...context, MLS_CONTEXT],
    keyPackages: links.keyPackages,
    messages: links.messages,
  };
}

/** Rewrites a Fedify actor response (JSON) with {@link addMlsToActor}; other responses pass through. */
export async function withMlsActor(
  response: Response,
  links: { readonly keyPackages: string; readonly messages: string },
  extra: JsonObject = {},
): Promise<Response> {
  const type = response.headers.get("content-type") ?? "";
  if (!response.ok || !type.includes("json")) return response;
  const actor = (await response.json()) as JsonObject;
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  return new Response(JSON.stringify(addMlsToActor(actor, links, extra)), {
    status: response.status,
    headers,
  });
}
