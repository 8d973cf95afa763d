// Note content on the Fediverse is HTML; XMPP bodies are plain text. Both directions, pure.
import { convert } from "html-to-text";

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Plain text (an XMPP body) as HTML: escaped, blank lines make paragraphs, newlines make <br>. */
export function textToHtml(text: string): string {
  const escaped = text.replace(/\r\n?/g, "\n").replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
  return escaped
    .split(/\n{2,}/)
    .map((p) => `<p>${p.replace(/\n/g, "<br>")}</p>`)
    .join("");
}

/**
 * HTML (a Note's content) as plain text. Markup is dropped, never interpreted: scripts, styles and images
 * vanish, links keep their text plus the address when it differs, entities are decoded.
 */
export function htmlToText(html: string): string {
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: "a", options: { hideLinkHrefIfSameAsText: true, ignoreHref: false } },
      { selector: "img", format: "skip" },
      { selector: "script", format: "skip" },
      { selector: "style", format: "skip" },
      { selector: "h1", options: { uppercase: false } },
      { selector: "h2", options: { uppercase: false } },
      { selector: "h3", options: { uppercase: false } },
      { selector: "table", format: "dataTable", options: { uppercaseHeaderCells: false } },
    ],
  }).trim();
}
