import { lookupWebFinger, type ResourceDescriptor } from "@fedify/webfinger";
import { ActivityPubError } from "./errors.js";
import { formatHandle, type Handle } from "./handle.js";
import type { Http } from "./http.js";

const selfTypes = new Set([
  "application/activity+json",
  'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
]);

/**
 * Finds the actor id of a handle with WebFinger (RFC 7033). Over HTTPS this is Fedify's `lookupWebFinger`;
 * `plainHttp` asks `http://host/.well-known/webfinger` instead, for loopback test servers and development
 * only (WebFinger itself mandates HTTPS, so Fedify's helper has no switch for it).
 */
export async function webFingerActorId(
  handle: Handle,
  http: Http,
  options: { plainHttp?: boolean; signal?: AbortSignal } = {},
): Promise<string> {
  const resource = `acct:${handle.user}@${handle.host}`;
  let descriptor: ResourceDescriptor | null;
  if (options.plainHttp) {
    const url = new URL(`http://${handle.host}/.well-known/webfinger`);
    url.searchParams.set("resource", resource);
    const response = await http.json(url.href, {
      accept: "application/jrd+json, application/json",
      signal: options.signal,
    });
    descriptor = response.body as ResourceDescriptor | null;
  } else {
    descriptor = await lookupWebFinger(resource, {
      allowPrivateAddress: http.allowPrivateAddress,
      userAgent: http.userAgent,
      signal: options.signal,
    });
  }
  if (descriptor === null) {
    throw new ActivityPubError(
      "not_found",
      `WebFinger knows no ${formatHandle(handle)} (or its server is unreachable)`,
    );
  }
  const links = Array.isArray(descriptor.links) ? descriptor.links : [];
  const self = links.find(
    (link) => link?.rel === "self" && typeof link.href === "string" && selfTypes.has(String(link.type ?? "")),
  );
  if (self?.href === undefined) {
    throw new ActivityPubError(
      "invalid_response",
      `WebFinger answer for ${formatHandle(handle)} has no ActivityPub self link`,
    );
  }
  return self.href;
}
