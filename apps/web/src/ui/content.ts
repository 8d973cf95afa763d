// Peer content is hostile until shown otherwise. HTML goes through DOMPurify with core's allow-list, the one the
// daemon applied on receipt (no scripts, styles, event handlers, forms or embeds; links only to http(s) and
// mailto, opened without an opener); plain text is rendered as text. Attachments become blob: URLs made here: images the browser can
// decode safely are shown inline, everything else is offered as a download of opaque bytes, so a file can
// never be opened as a page of this origin.
import type { Attachment, Message } from "@sotto/api";
import { HTML_ALLOWED_SCHEMES, HTML_ALLOWED_TAGS } from "@sotto/core/html-policy";
import DOMPurify from "dompurify";

const SCHEMES = new RegExp(`^(?:${HTML_ALLOWED_SCHEMES.join("|")}):`, "i");

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

export function sanitizeHtml(html: string): string {
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS: [...HTML_ALLOWED_TAGS],
    ALLOWED_ATTR: ["href"],
    ALLOWED_URI_REGEXP: SCHEMES,
  });
}

/** A message's text (HTML turned into lines, nothing run or loaded: an inert template), for quotes and edits. */
export function messageText(message: Message, limit = Number.POSITIVE_INFINITY): string {
  if (message.mediaType !== "text/html") return message.content.slice(0, limit);
  const template = document.createElement("template");
  const html = message.content
    .slice(0, limit)
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/p>\s*<p>/gi, "\n\n");
  template.innerHTML = sanitizeHtml(html);
  return template.content.textContent ?? "";
}

/** Shown inline: raster formats only (an SVG can carry script, so it is a download like any other file). */
const INLINE = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"]);

export interface ShownAttachment {
  readonly name: string;
  readonly mediaType: string;
  readonly size: number;
  readonly inline: boolean;
  readonly url: string;
}

const urls = new Map<string, ShownAttachment>();

/** A blob: URL per attachment, made once per message and attachment (messages re-render often). */
export function showAttachment(key: string, attachment: Attachment): ShownAttachment {
  const known = urls.get(key);
  if (known) return known;
  const bytes = Uint8Array.from(atob(attachment.data), (c) => c.charCodeAt(0));
  const inline = INLINE.has(attachment.mediaType.toLowerCase());
  // Non-images are opaque bytes: the browser can only save them, never render them in this origin.
  const blob = new Blob([bytes], { type: inline ? attachment.mediaType : "application/octet-stream" });
  const shown = {
    name: attachment.name ?? (inline ? "image" : "attachment"),
    mediaType: attachment.mediaType,
    size: bytes.length,
    inline,
    url: URL.createObjectURL(blob),
  };
  urls.set(key, shown);
  return shown;
}

/** Reads picked, dropped or pasted files as the API's inline attachments. */
export async function toAttachments(files: readonly File[]): Promise<Attachment[]> {
  return Promise.all(
    files.map(async (file) => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      let binary = "";
      for (let i = 0; i < bytes.length; i += 0x8000) {
        binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      }
      return {
        mediaType: file.type || "application/octet-stream",
        ...(file.name ? { name: file.name } : {}),
        data: btoa(binary),
      };
    }),
  );
}

export function bytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}
