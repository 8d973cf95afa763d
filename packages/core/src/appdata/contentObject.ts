// Content objects (spec §Content objects): Note/Article with sanitized HTML, Image/Audio/Video with inline
// media, replies, mentions and hashtags, and attachments that are content objects themselves.
import { err, ok, type Result } from "../result.js";
import { asList, isJsonObject, type JsonObject, linkId, normalizeTerms, typesOf } from "../vocab/json.js";
import { AppDataError } from "./errors.js";
import { isWebUrl } from "./ids.js";
import { readMedia } from "./media.js";
import { ATTACHMENT_TYPES, CONTENT_TYPES, type ContentObject, type ContentType, type Tag } from "./model.js";
import { MAX_HTML_LENGTH, sanitizeHtmlField, sanitizeTextField } from "./sanitize.js";

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

export function readId(
  value: unknown,
  path: string,
  allowWebId: boolean,
): Result<string | undefined, AppDataError> {
  if (value === undefined) return ok(undefined);
  if (typeof value !== "string" || value === "") {
    return err(new AppDataError("invalid_property", "must be a non-empty string", path));
  }
  if (isWebUrl(value) && !allowWebId) {
    return err(new AppDataError("https_id", "application data ids must not be HTTP(S) URLs", path));
  }
  return ok(value);
}

function optionalString(
  node: JsonObject,
  key: string,
  path: string,
): Result<string | undefined, AppDataError> {
  const value = node[key];
  if (value === undefined || typeof value === "string") return ok(value);
  return err(new AppDataError("invalid_property", "must be a string", `${path}${key}`));
}

/** Refuses text too long to sanitize in bounded time. */
export function checkLength(value: string | undefined, path: string): Result<void, AppDataError> {
  if (value === undefined || value.length <= MAX_HTML_LENGTH) return ok(undefined);
  return err(new AppDataError("too_large", `is longer than ${MAX_HTML_LENGTH} characters`, path));
}

function dimension(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function readTags(value: unknown, path: string): Result<readonly Tag[], AppDataError> {
  const tags: Tag[] = [];
  for (const [index, item] of asList(value).entries()) {
    if (typeof item === "string") {
      tags.push({ type: "Link", href: item });
      continue;
    }
    if (!isJsonObject(item)) continue;
    const node = normalizeTerms(item);
    const href = typeof node.href === "string" ? node.href : linkId(node.id);
    const rawName = typeof node.name === "string" ? node.name : undefined;
    const tooLarge = checkLength(rawName, `${path}tag.${index}.name`);
    if (!tooLarge.ok) return tooLarge;
    const name = rawName === undefined ? undefined : sanitizeTextField(rawName);
    tags.push({
      type: typesOf(node)[0] ?? "Link",
      ...(href === undefined ? {} : { href }),
      ...(name === undefined ? {} : { name }),
    });
  }
  return ok(tags);
}

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

  const strings: Record<string, string | undefined> = {};
  for (const key of ["name", "summary", "published", "updated", "blurhash", "mediaType"]) {
    const value = optionalString(node, key, path);
    if (!value.ok) return value;
    const tooLarge = checkLength(value.value, `${path}${key}`);
    if (!tooLarge.ok) return tooLarge;
    strings[key] = value.value;
  }
  const inReplyTo = node.inReplyTo === undefined ? undefined : linkId(asList(node.inReplyTo)[0]);
  if (node.inReplyTo !== undefined && inReplyTo === undefined) {
    return err(new AppDataError("invalid_property", "must be an id", `${path}inReplyTo`));
  }

  let content: string | undefined;
  let media: ContentObject["media"];
  if (TEXT_TYPES.includes(type)) {
    if (node.content !== undefined && typeof node.content !== "string") {
      return err(new AppDataError("invalid_property", "must be HTML text", `${path}content`));
    }
    const tooLarge = checkLength(node.content, `${path}content`);
    if (!tooLarge.ok) return tooLarge;
    const plain = strings.mediaType?.split(";")[0]?.trim().toLowerCase() === "text/plain";
    content =
      node.content === undefined
        ? undefined
        : plain
          ? sanitizeTextField(node.content)
          : sanitizeHtmlField(node.content);
  } else {
    const read = readMedia(node, path);
    if (!read.ok) return read;
    media = read.value;
  }

  const attachment: ContentObject[] = [];
  let unsupportedAttachments = 0;
  for (const [index, item] of asList(node.attachment).entries()) {
    if (
      rules.isAttachment ||
      !isJsonObject(item) ||
      contentTypeOf(normalizeTerms(item), ATTACHMENT_TYPES) === undefined
    ) {
      unsupportedAttachments += 1;
      continue;
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

  const tags = node.tag === undefined ? undefined : readTags(node.tag, path);
  if (tags !== undefined && !tags.ok) return tags;
  const tag = tags?.value;
  const width = dimension(node.width);
  const height = dimension(node.height);
  const object: ContentObject = {
    type,
    ...(id.value === undefined ? {} : { id: id.value }),
    ...(strings.name === undefined ? {} : { name: sanitizeTextField(strings.name) }),
    ...(strings.summary === undefined ? {} : { summary: sanitizeHtmlField(strings.summary) }),
    ...(content === undefined ? {} : { content }),
    ...(media === undefined ? {} : { media }),
    ...(inReplyTo === undefined ? {} : { inReplyTo }),
    ...(strings.published === undefined ? {} : { published: strings.published }),
    ...(strings.updated === undefined ? {} : { updated: strings.updated }),
    ...(tag === undefined ? {} : { tag }),
    ...(attachment.length === 0 ? {} : { attachment }),
    ...(unsupportedAttachments === 0 ? {} : { unsupportedAttachments }),
    ...(width === undefined ? {} : { width }),
    ...(height === undefined ? {} : { height }),
    ...(strings.blurhash === undefined ? {} : { blurhash: strings.blurhash }),
  };
  return ok(object);
}
