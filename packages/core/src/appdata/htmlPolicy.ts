// What received HTML may hold: one allow-list for every sanitiser (the daemon's sanitize-html on receipt, and a
// browser UI's DOMPurify before it renders), so the two never drift. No dependencies: safe to import in a browser.

/** Inline formatting, paragraphs, lists, quotes, code and links. No images, styles, scripts, forms or embeds. */
export const HTML_ALLOWED_TAGS: readonly string[] = [
  "p",
  "br",
  "a",
  "b",
  "strong",
  "i",
  "em",
  "u",
  "s",
  "del",
  "code",
  "pre",
  "blockquote",
  "ul",
  "ol",
  "li",
  "span",
];

/** The only URL schemes a link may use. */
export const HTML_ALLOWED_SCHEMES: readonly string[] = ["http", "https", "mailto"];
