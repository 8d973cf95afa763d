// XEP-0106 (JID Escaping): turns any Fediverse handle `user@host` into a valid JID localpart and back.
// `bob@social.example` becomes `bob\40social.example`, so the actor's JID is `bob\40social.example@<component>`.
// Reversible: a backslash is escaped (`\5c`) exactly when it would otherwise read as an escape sequence.

const ESCAPES: ReadonlyMap<string, string> = new Map([
  [" ", "\\20"],
  ['"', "\\22"],
  ["&", "\\26"],
  ["'", "\\27"],
  ["/", "\\2f"],
  [":", "\\3a"],
  ["<", "\\3c"],
  [">", "\\3e"],
  ["@", "\\40"],
  ["\\", "\\5c"],
]);
const UNESCAPES: ReadonlyMap<string, string> = new Map([...ESCAPES].map(([c, e]) => [e.slice(1), c]));
const SEQUENCE = /\\(20|22|26|27|2f|3a|3c|3e|40|5c)/gi;

export function escapeLocalpart(raw: string): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === "\\") {
      const next = raw.slice(i + 1, i + 3).toLowerCase();
      out += UNESCAPES.has(next) ? "\\5c" : "\\";
    } else {
      out += ESCAPES.get(c) ?? c;
    }
  }
  return out;
}

export function unescapeLocalpart(escaped: string): string {
  return escaped.replace(SEQUENCE, (_, hex: string) => UNESCAPES.get(hex.toLowerCase()) as string);
}
