import { textToHtml } from "@sotto/core";
import { describe, expect, it } from "vitest";
import { htmlToText } from "./text.js";

describe("htmlToText", () => {
  it("drops markup, decodes entities and keeps links readable", () => {
    expect(htmlToText("<p>Hello, <s>World</s> Universe!</p>")).toBe("Hello, World Universe!");
    expect(htmlToText("<br>Five!<br>Four!")).toBe("Five!\nFour!");
    expect(htmlToText("Tom &amp; Jerry &lt;3")).toBe("Tom & Jerry <3");
    expect(htmlToText('see <a href="https://e.example/x">this</a>')).toBe("see this [https://e.example/x]");
  });

  it("keeps a line's indentation, but not HTML source layout", () => {
    expect(htmlToText("<p>list:<br>  - one<br>\t- two</p><p>    four</p>")).toBe(
      "list:\n  - one\n\t- two\n\n    four",
    );
    expect(htmlToText("<p>a\n   b</p>")).toBe("a b");
  });

  it("never lets script or style text through", () => {
    expect(htmlToText("<p>hi</p><script>steal()</script><style>p{}</style><img src=x onerror=y>")).toBe("hi");
  });

  it("round-trips plain text through the HTML core's textToHtml makes", () => {
    for (const t of [
      "plain",
      "a < b && c > d",
      "line1\nline2",
      "p1\n\np2",
      "émoji 🎉 'quotes' \"dq\"",
      "def f():\n    return 1\n\tdone",
    ]) {
      expect(htmlToText(textToHtml(t))).toBe(t);
    }
  });
});
