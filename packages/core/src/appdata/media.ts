// Inline media: the spec's base64 `content` with `mediaType`, or Emissary's attachment `url` holding a
// `data:` URI.
import { decodeBase64 } from "../envelope/base64.js";
import { MAX_MEDIA_TYPE_LENGTH } from "../limits.js";
import { err, ok, type Result } from "../result.js";
import { asList, isJsonObject, type JsonObject, normalizeTerms } from "../vocab/json.js";
import { AppDataError } from "./errors.js";
import type { Media } from "./model.js";

const DATA_URI = /^data:([^,]*?)(;base64)?,(.*)$/s;

export function readDataUri(uri: string): Media | undefined {
  const match = DATA_URI.exec(uri);
  if (match === null) return undefined;
  const [, type = "", base64, data = ""] = match;
  const mediaType = type.split(";")[0]?.trim();
  let bytes: Uint8Array | undefined;
  if (base64 !== undefined) {
    bytes = decodeBase64(data);
  } else {
    try {
      bytes = new TextEncoder().encode(decodeURIComponent(data));
    } catch {
      bytes = undefined;
    }
  }
  if (bytes === undefined) return undefined;
  return mediaType === undefined || mediaType === "" ? { bytes } : { mediaType, bytes };
}

/** The media with its type, when it has one (refused when longer than a media type can be). */
function typed(bytes: Uint8Array, mediaType: string | undefined, path: string): Result<Media, AppDataError> {
  if (mediaType === undefined || mediaType === "") return ok({ bytes });
  if (mediaType.length > MAX_MEDIA_TYPE_LENGTH) {
    return err(
      new AppDataError("too_large", `is longer than ${MAX_MEDIA_TYPE_LENGTH} characters`, `${path}mediaType`),
    );
  }
  return ok({ mediaType, bytes });
}

/** Reads the media of a binary content object; undefined when it carries none. */
export function readMedia(node: JsonObject, path: string): Result<Media | undefined, AppDataError> {
  const mediaType = typeof node.mediaType === "string" && node.mediaType !== "" ? node.mediaType : undefined;
  if (node.content !== undefined) {
    if (typeof node.content !== "string") {
      return err(new AppDataError("invalid_property", "must be base64 text", `${path}content`));
    }
    if (node.encoding !== undefined && node.encoding !== "base64") {
      return err(new AppDataError("invalid_media", "only base64 encoding is defined", `${path}encoding`));
    }
    const bytes = decodeBase64(node.content);
    if (bytes === undefined) return err(new AppDataError("invalid_media", "is not base64", `${path}content`));
    return typed(bytes, mediaType, path);
  }
  for (const url of asList(node.url)) {
    const href = typeof url === "string" ? url : isJsonObject(url) ? normalizeTerms(url).href : undefined;
    if (typeof href !== "string" || !href.startsWith("data:")) continue;
    const media = readDataUri(href);
    if (media === undefined)
      return err(new AppDataError("invalid_media", "is not a valid data: URI", `${path}url`));
    return typed(media.bytes, mediaType ?? media.mediaType, path);
  }
  return ok(undefined);
}
