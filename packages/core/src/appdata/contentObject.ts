// Content objects (spec §Content objects): Note/Article with sanitized HTML, Image/Audio/Video with inline
// media, replies, mentions and hashtags, and attachments that are content objects themselves.
//
// Optional fields holding junk (an empty string, a value of the wrong type, a date that does not parse) are
// read as absent: Emissary sends `"inReplyTo": ""` on every Note that is not a reply. Values over the limits
// of `../limits.ts` refuse the whole object (`too_large`), so nothing is stored that the API could not return;
// except a Note's or Article's `content`, the message itself: one longer than MAX_HTML_LENGTH is kept cut to
// that length (and says so in `contentLength`), as messengers keep an overlong message rather than lose it.
import {
  MAX_ATTACHMENTS,
  MAX_HTML_LENGTH,
  MAX_ID_LENGTH,
  MAX_INLINE_MEDIA_BYTES,
  MAX_MEDIA_TYPE_LENGTH,
  MAX_NAME_LENGTH,
} from "../limits.js";
import { err, ok, type Result } from "../result.js";
import { asList, isJsonObject, type JsonObject, linkId, normalizeTerms, typesOf } from "../vocab/json.js";
import { AppDataError } from "./errors.js";
import { isWebUrl } from "./ids.js";
import { readMedia } from "./media.js";
import { ATTACHMENT_TYPES, CONTENT_TYPES, type ContentObject, type ContentType, type Tag } from "./model.js";
import { sanitizeHtmlField, sanitizeTextField } from "./sanitize.js";

export interface ContentObjectRules {
  /** Only an Announce's object may have an HTTPS id. */
  readonly allowWebId: boolean;
  readonly requireId: boolean;
  /** Attachments of attachments are not read (they mean nothing, and unbounded nesting would recurse). */
  readonly isAttachment?: boolean;
}

const TEXT_TYPES: readonly ContentType[] = ["Note", "Article"];

export function contentTypeOf(
  node: JsonObject,
  allowed: readonly ContentType[] = CONTENT_TYPES,
): ContentType | undefined {
  const types = typesOf(node);
  return allowed.find((type) => types.includes(type));
}

/** A string with something in it, else undefined (junk in an optional field is absent). */
export function presentString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Refuses a value longer than `max` characters. */
export function checkLength(
  value: string | undefined,
  path: string,
  max = MAX_HTML_LENGTH,
): Result<void, AppDataError> {
  if (value === undefined || value.length <= max) return ok(undefined);
  return err(new AppDataError("too_large", `is longer than ${max} characters`, path));
}

/** An application-data id, kept verbatim: absent when junk, refused when an HTTP(S) URL or too long. */
export function readId(
  value: unknown,
  path: string,
  allowWebId: boolean,
): Result<string | undefined, AppDataError> {
  const id = presentString(value);
  if (id === undefined) return ok(undefined);
  const tooLong = checkLength(id, path, MAX_ID_LENGTH);
  if (!tooLong.ok) return tooLong;
  if (isWebUrl(id) && !allowWebId) {
    return err(new AppDataError("https_id", "application data ids must not be HTTP(S) URLs", path));
  }
  return ok(id);
}

/** The id a link names (a string or an object's id), verbatim: absent when junk, refused when too long. */
export function readLink(value: unknown, path: string): Result<string | undefined, AppDataError> {
  const id = presentString(linkId(asList(value)[0]));
  const tooLong = checkLength(id, path, MAX_ID_LENGTH);
  return tooLong.ok ? ok(id) : tooLong;
}

/** An optional text field: absent when junk or empty once sanitized, refused when too long. */
function readText(
  node: JsonObject,
  key: string,
  path: string,
  sanitize: ((text: string) => string) | undefined,
  max = MAX_HTML_LENGTH,
): Result<string | undefined, AppDataError> {
  const raw = presentString(node[key]);
  const tooLong = checkLength(raw, `${path}${key}`, max);
  if (!tooLong.ok) return tooLong;
  return ok(presentString(raw === undefined || sanitize === undefined ? raw : sanitize(raw)));
}

/** The first `max` UTF-16 units of `text`, not splitting a surrogate pair. */
function cutAt(text: string, max: number): string {
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return text.slice(0, end);
}

function dimension(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** A date-time that parses, else absent. */
function date(value: string | undefined): string | undefined {
  return value !== undefined && Number.isFinite(Date.parse(value)) ? value : undefined;
}

function readTags(value: unknown, path: string): Result<readonly Tag[], AppDataError> {
  const tags: Tag[] = [];
  for (const [index, item] of asList(value).entries()) {
    if (typeof item === "string") {
      if (item !== "") tags.push({ type: "Link", href: item });
      continue;
    }
    if (!isJsonObject(item)) continue;
    const node = normalizeTerms(item);
    const href = presentString(node.href) ?? presentString(linkId(node.id));
    const name = readText(node, "name", `${path}tag.${index}.`, sanitizeTextField);
    if (!name.ok) return name;
    tags.push({
      type: typesOf(node)[0] ?? "Link",
      ...(href === undefined ? {} : { href }),
      ...(name.value === undefined ? {} : { name: name.value }),
    });
  }
  return ok(tags);
}

/** The plain string properties of a content object (one array, not one per message). */
const STRING_KEYS = ["published", "updated", "blurhash"] as const;

export function readContentObject(
  raw: JsonObject,
  path: string,
  rules: ContentObjectRules,
  allowed: readonly ContentType[] = CONTENT_TYPES,
): Result<ContentObject, AppDataError> {
  const node = normalizeTerms(raw);
  const type = contentTypeOf(node, allowed);
  if (type === undefined)
    return err(new AppDataError("invalid_property", "is not a content object", `${path}type`));
  const id = readId(node.id, `${path}id`, rules.allowWebId);
  if (!id.ok) return id;
  if (id.value === undefined && rules.requireId)
    return err(new AppDataError("missing_id", "needs an id", `${path}id`));

  const name = readText(node, "name", path, sanitizeTextField, MAX_NAME_LENGTH);
  if (!name.ok) return name;
  const summary = readText(node, "summary", path, sanitizeHtmlField);
  if (!summary.ok) return summary;
  const mediaType = readText(node, "mediaType", path, undefined, MAX_MEDIA_TYPE_LENGTH);
  if (!mediaType.ok) return mediaType;
  const strings: Record<string, string | undefined> = {};
  for (let k = 0; k < STRING_KEYS.length; k++) {
    const key = STRING_KEYS[k] as string;
    const value = readText(node, key, path, undefined);
    if (!value.ok) return value;
    strings[key] = value.value;
  }
  const inReplyTo = readLink(node.inReplyTo, `${path}inReplyTo`);
  if (!inReplyTo.ok) return inReplyTo;
  const attributedTo = readLink(node.attributedTo, `${path}attributedTo`);
  if (!attributedTo.ok) return attributedTo;

  let content: string | undefined;
  let media: ContentObject["media"];
  let contentLength: number | undefined;
  if (TEXT_TYPES.includes(type)) {
    const plain = mediaType.value?.split(";")[0]?.trim().toLowerCase() === "text/plain";
    const raw = presentString(node.content);
    if (raw !== undefined && raw.length > MAX_HTML_LENGTH) contentLength = raw.length;
    // Cut before sanitizing (its cost is what the limit bounds); markup cut mid-tag is closed or dropped by it.
    const kept = contentLength === undefined ? raw : cutAt(raw as string, MAX_HTML_LENGTH);
    const read = readText({ content: kept }, "content", path, plain ? sanitizeTextField : sanitizeHtmlField);
    if (!read.ok) return read;
    content = read.value;
  } else {
    const read = readMedia(node, path);
    if (!read.ok) return read;
    media = read.value;
  }

  const attachment: ContentObject[] = [];
  let unsupportedAttachments = 0;
  const items = asList(node.attachment);
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    if (
      rules.isAttachment ||
      !isJsonObject(item) ||
      contentTypeOf(normalizeTerms(item), ATTACHMENT_TYPES) === undefined
    ) {
      unsupportedAttachments += 1;
      continue;
    }
    if (attachment.length === MAX_ATTACHMENTS) {
      return err(
        new AppDataError("too_large", `has more than ${MAX_ATTACHMENTS} attachments`, `${path}attachment`),
      );
    }
    const read = readContentObject(
      item,
      `${path}attachment.${index}.`,
      { allowWebId: false, requireId: false, isAttachment: true },
      ATTACHMENT_TYPES,
    );
    if (!read.ok) return read;
    attachment.push(read.value);
  }
  const mediaBytes = [media, ...attachment.map((a) => a.media)].reduce(
    (total, m) => total + (m?.bytes.byteLength ?? 0),
    0,
  );
  if (mediaBytes > MAX_INLINE_MEDIA_BYTES) {
    return err(
      new AppDataError("too_large", `holds more than ${MAX_INLINE_MEDIA_BYTES} bytes of inline media`, path),
    );
  }

  const tags = node.tag === undefined ? undefined : readTags(node.tag, path);
  if (tags !== undefined && !tags.ok) return tags;
  const tag = tags?.value;
  const width = dimension(node.width);
  const height = dimension(node.height);
  const published = date(strings.published);
  const updated = date(strings.updated);
  const object: ContentObject = {
    type,
    ...(id.value === undefined ? {} : { id: id.value }),
    ...(attributedTo.value === undefined ? {} : { attributedTo: attributedTo.value }),
    ...(name.value === undefined ? {} : { name: name.value }),
    ...(summary.value === undefined ? {} : { summary: summary.value }),
    ...(content === undefined ? {} : { content }),
    ...(media === undefined ? {} : { media }),
    ...(inReplyTo.value === undefined ? {} : { inReplyTo: inReplyTo.value }),
    ...(published === undefined ? {} : { published }),
    ...(updated === undefined ? {} : { updated }),
    ...(tag === undefined || tag.length === 0 ? {} : { tag }),
    ...(attachment.length === 0 ? {} : { attachment }),
    ...(unsupportedAttachments === 0 ? {} : { unsupportedAttachments }),
    ...(contentLength === undefined ? {} : { contentLength }),
    ...(width === undefined ? {} : { width }),
    ...(height === undefined ? {} : { height }),
    ...(strings.blurhash === undefined ? {} : { blurhash: strings.blurhash }),
  };
  return ok(object);
}
