import { describe, expect, it } from "vitest";

import { renderMarkdown, setMarkdown } from "../src/markdown";

function render(text: string): HTMLDivElement {
  const div = document.createElement("div");
  div.append(renderMarkdown(text));
  return div;
}

/** No element or attribute in `root` can run script or load a javascript:/data: URL. */
function expectInert(root: Element): void {
  expect(root.querySelectorAll("script, iframe, img, object, embed, style, svg, form, input")).toHaveLength(0);
  for (const el of root.querySelectorAll("*")) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.startsWith("on"), `${el.tagName} has ${attr.name}`).toBe(false);
      expect(attr.value).not.toMatch(/^\s*(javascript|vbscript|data):/i);
    }
  }
}

describe("renderMarkdown", () => {
  it("renders headings, emphasis, lists and rules", () => {
    const div = render("# Title\n\n## Sub\n\nSome **bold** and *em* and ~~gone~~.\n\n- one\n- two\n\n1. first\n2. second\n\n---\n");
    expect(div.querySelector("h1")?.textContent).toBe("Title");
    expect(div.querySelector("h2")?.textContent).toBe("Sub");
    expect(div.querySelector("strong")?.textContent).toBe("bold");
    expect(div.querySelector("em")?.textContent).toBe("em");
    expect(div.querySelector("s")?.textContent).toBe("gone");
    expect(div.querySelectorAll("ul > li")).toHaveLength(2);
    expect(div.querySelectorAll("ol > li")).toHaveLength(2);
    expect(div.querySelector("hr")).not.toBeNull();
  });

  it("keeps an ordered list's start number", () => {
    expect(render("3. three\n4. four").querySelector("ol")?.getAttribute("start")).toBe("3");
  });

  it("renders code fences with their language class and literal content", () => {
    const div = render("```python\nprint('<b>hi</b>')\n```");
    const code = div.querySelector("pre > code");
    expect(code?.className).toBe("language-python");
    expect(code?.textContent).toBe("print('<b>hi</b>')\n");
    expect(div.querySelector("b")).toBeNull();
  });

  it("drops class names other than a code language", () => {
    const div = render('```x" onmouseover="alert(1)\ncode\n```');
    expectInert(div);
    expect(div.querySelector("code")?.getAttribute("class") ?? "").not.toContain("onmouseover");
  });

  it("renders tables", () => {
    const div = render("| a | b |\n|---|--:|\n| 1 | 2 |");
    expect(div.querySelectorAll("table thead th")).toHaveLength(2);
    expect(div.querySelector("table tbody td")?.textContent).toBe("1");
  });

  it("turns single newlines into <br> (breaks: true)", () => {
    expect(render("line one\nline two").querySelector("p > br")).not.toBeNull();
  });

  it("opens links in a new tab without opener or referrer", () => {
    const div = render("[site](https://example.com/a?b=1) and https://linkified.example.org and <mailto:me@example.com>");
    const links = Array.from(div.querySelectorAll("a"));
    expect(links.map((a) => a.getAttribute("href"))).toEqual([
      "https://example.com/a?b=1",
      "https://linkified.example.org",
      "mailto:me@example.com",
    ]);
    for (const a of links) {
      expect(a.getAttribute("target")).toBe("_blank");
      expect(a.getAttribute("rel")).toBe("noopener noreferrer");
    }
  });

  it("removes hrefs that are not http(s) or mailto", () => {
    const div = render(
      "[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](vbscript:msgbox) " +
        "[d](data:text/html;base64,PHNjcmlwdD4=) [e](/relative/path) [f](ftp://x.example)",
    );
    expectInert(div);
    for (const a of div.querySelectorAll("a")) {
      const href = a.getAttribute("href");
      expect(href === null || /^(https?:|mailto:)/i.test(href)).toBe(true);
    }
    // The refused links stay readable as text, but none of them became a link.
    expect(div.querySelectorAll("a[href]")).toHaveLength(0);
    expect(div.textContent).toContain("[a](javascript:alert(1))");
  });

  it("shows raw HTML in the text as literal text", () => {
    const payloads = [
      "<script>window.__pwned = 1</script>",
      '<img src=x onerror="window.__pwned = 1">',
      '<iframe src="https://evil.example"></iframe>',
      '<a href="javascript:alert(1)">click</a>',
      '<svg onload="alert(1)"></svg>',
      "<style>body{display:none}</style>",
    ];
    for (const payload of payloads) {
      const div = render(`Before ${payload} after`);
      expectInert(div);
      expect(div.textContent).toContain(payload);
    }
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it("never renders images: a markdown image becomes a safe link", () => {
    const div = render("![a cat](https://img.example/cat.png) ![x](javascript:alert(1))");
    expectInert(div);
    const link = div.querySelector("a");
    expect(link?.textContent).toBe("a cat");
    expect(link?.getAttribute("href")).toBe("https://img.example/cat.png");
  });

  it("does not let link titles or text break out of attributes", () => {
    const div = render('[x](https://example.com "t\\" onmouseover=\\"alert(1)")');
    expectInert(div);
    expect(div.querySelector("a")?.getAttribute("href")).toBe("https://example.com");
  });

  it("tolerates unfinished markdown while streaming", () => {
    const fence = render("Here:\n```js\nconst a = 1;\nconst b =");
    expect(fence.querySelector("pre code")?.textContent).toContain("const b =");

    const halfLink = render("See [the docs](https://exa");
    expect(halfLink.textContent).toContain("See [the docs](https://exa");
    expectInert(halfLink);

    const halfTag = render("a <scr");
    expect(halfTag.textContent).toContain("a <scr");
    expectInert(halfTag);

    for (const partial of ["**bold", "- ", "| a |", "1.", "`", "> ", "[", "![", "<", "&"]) {
      expect(() => render(partial)).not.toThrow();
    }
  });

  it("renders a growing text consistently, including a repeat of the same text", () => {
    const full = "Hello **world**, this is [a link](https://example.com).";
    let last = "";
    for (let i = 1; i <= full.length; i += 1) {
      const div = render(full.slice(0, i));
      expectInert(div);
      last = div.innerHTML;
    }
    expect(render(full).innerHTML).toBe(last);
    expect(render(full).querySelector("a")?.getAttribute("href")).toBe("https://example.com");
  });

  it("returns a fresh fragment on every call", () => {
    const a = render("same text");
    const b = render("same text");
    expect(a.innerHTML).toBe(b.innerHTML);
    expect(a.firstChild).not.toBe(b.firstChild);
  });

  it("handles empty and non-string input without throwing", () => {
    expect(render("").childNodes).toHaveLength(0);
    expect(() => renderMarkdown(undefined as unknown as string)).not.toThrow();
    expect(() => renderMarkdown(42 as unknown as string)).not.toThrow();
  });
});

describe("setMarkdown", () => {
  it("replaces the element's children", () => {
    const el = document.createElement("div");
    el.innerHTML = "<span>old</span>";
    setMarkdown(el, "*new*");
    expect(el.querySelector("span")).toBeNull();
    expect(el.querySelector("em")?.textContent).toBe("new");
    setMarkdown(el, "newer");
    expect(el.textContent?.trim()).toBe("newer");
  });
});
