// Plain text (a CLI line, an XMPP body) as the HTML a Note's `content` holds.

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Plain text as HTML: escaped, newlines made `<br>`; text with blank lines in it becomes paragraphs. A single
 * paragraph is left bare, so a one-line message reads the same as text and as HTML.
 */
export function textToHtml(text: string): string {
  const escaped = text.replace(/\r\n?/g, "\n").replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
  const paragraphs = escaped.split(/\n{2,}/).map((p) => p.replace(/\n/g, "<br>"));
  return paragraphs.length === 1 ? (paragraphs[0] as string) : paragraphs.map((p) => `<p>${p}</p>`).join("");
}
