import { describe, expect, it } from "vitest";
import { sanitizeHtmlField } from "./sanitize.js";
import { textToHtml } from "./text.js";

describe("textToHtml", () => {
  it("escapes markup and turns blank lines into paragraphs and newlines into <br>", () => {
    expect(textToHtml("a < b & c\nnext\n\npara 2")).toBe("<p>a &lt; b &amp; c<br>next</p><p>para 2</p>");
    expect(textToHtml(`<script>alert("x")</script>`)).toBe(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;",
    );
    expect(textToHtml("it's\r\nWindows")).toBe("it&#39;s<br>Windows");
    expect(textToHtml("")).toBe("");
  });

  it("makes markup a receiver's sanitizer keeps: paragraphs and line breaks, the text intact", () => {
    expect(sanitizeHtmlField(textToHtml("a <b> & 'c'\n\nnew \"para\"\nline"))).toBe(
      `<p>a &lt;b&gt; &amp; 'c'</p><p>new "para"<br />line</p>`,
    );
  });
});
