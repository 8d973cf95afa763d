// Note content on the Fediverse is HTML; XMPP bodies are plain text. This is the HTML -> text direction (the
// other is @sotto/core's textToHtml); pure.
import { convert } from "html-to-text";

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
