// Every HTML field of received application data goes through sanitize-html with a strict allow-list: inline
// text formatting, paragraphs, lists, quotes, code and links (http, https, mailto; opened without referrer).
// No images, styles, classes, scripts or forms: nothing that loads remote content or runs code.
import sanitizeHtml from "sanitize-html";
import { HTML_ALLOWED_SCHEMES, HTML_ALLOWED_TAGS } from "./htmlPolicy.js";

export { MAX_HTML_LENGTH } from "../limits.js";

const HTML_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [...HTML_ALLOWED_TAGS],
  // rel and target are set by the transform below, never taken from the sender.
  allowedAttributes: { a: ["href", "rel", "target"] },
  allowedSchemes: [...HTML_ALLOWED_SCHEMES],
  allowedSchemesAppliedToAttributes: ["href"],
  allowProtocolRelative: false,
  disallowedTagsMode: "discard",
  transformTags: {
    a: (tagName, attribs) => ({
      tagName,
      attribs: {
        ...(attribs.href === undefined ? {} : { href: attribs.href }),
        rel: "nofollow noopener noreferrer",
        target: "_blank",
      },
    }),
  },
};

const TEXT_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [],
  allowedAttributes: {},
  disallowedTagsMode: "discard",
};

/**
 * Text with none of `&`, `<` and `>` holds no markup and no entity: sanitize-html would return it unchanged, so
 * it is not parsed (most messages are such plain text, and parsing is a good part of receiving one).
 */
const MARKUP = /[&<>]/;

/** Sanitizes an HTML field (`content`, `summary`). Callers check MAX_HTML_LENGTH first. */
export function sanitizeHtmlField(html: string): string {
  return MARKUP.test(html) ? sanitizeHtml(html, HTML_OPTIONS) : html;
}

/** Reduces a plain-text field (`name`, a reaction, a tag name) to HTML-safe text with no markup. */
export function sanitizeTextField(text: string): string {
  return MARKUP.test(text) ? sanitizeHtml(text, TEXT_OPTIONS) : text;
}
