// Note content on the Fediverse is HTML; XMPP bodies are plain text. This is the HTML -> text direction (the
// other is @sotto/core's textToHtml); pure.
import { compile } from "html-to-text";

// A line's leading spaces and tabs (at the start, after a <br> or a <p>) would be collapsed as HTML whitespace;
// they are carried through the conversion as private-use characters and put back after it.
const INDENT = /(^|<br\s*\/?>|<p(?:\s[^>]*)?>)([ \t]+)/gi;
const KEPT: Readonly<Record<string, string>> = { " ": "\uE000", "\t": "\uE001" };
const BACK: Readonly<Record<string, string>> = { "\uE000": " ", "\uE001": "\t" };

// Compiled once: `convert` compiles its options on every call (selectors parsed again), about 6 ms of the
// gateway's CPU per message from the Fediverse in the benchmark.
const toText = compile({
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
});

/**
 * HTML (a Note's content) as plain text. Markup is dropped, never interpreted: scripts, styles and images
 * vanish, links keep their text plus the address when it differs, entities are decoded; a line's indentation
 * stays.
 */
export function htmlToText(html: string): string {
  const kept = html
    .replace(/[\uE000\uE001]/g, "")
    .replace(
      INDENT,
      (_, before: string, indent: string) => before + indent.replace(/[ \t]/g, (c) => KEPT[c] as string),
    );
  return toText(kept)
    .trim()
    .replace(/[\uE000\uE001]/g, (c) => BACK[c] as string);
}
