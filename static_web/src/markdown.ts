/**
 * Markdown for model output and widget `Markdown` components.
 *
 * Model text is untrusted: markdown-it runs with `html: false` (raw HTML in the text
 * comes out escaped), and its output still goes through DOMPurify with a short
 * allow-list before it is parsed, so a bug or a future option change in either library
 * cannot turn model text into live markup on its own.
 *
 * Images are deliberately not rendered: a markdown image becomes a plain link with its
 * alt text, so model output cannot make the browser fetch arbitrary URLs (tracking
 * pixels, data exfiltration through query strings) just by being displayed.
 */
import createDOMPurify from "dompurify";
import MarkdownIt from "markdown-it";

const md = new MarkdownIt({ html: false, linkify: true, breaks: true });

md.renderer.rules.image = (tokens, idx) => {
  const token = tokens[idx];
  const src = token.attrGet("src") ?? "";
  const alt = md.utils.escapeHtml(token.content || src);
  // validateLink already rejected javascript:/vbscript:/file: before we get here; the
  // DOMPurify hook below is the real gate for the href.
  return `<a href="${md.utils.escapeHtml(src)}">${alt}</a>`;
};

const ALLOWED_TAGS = [
  "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
  "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
  "hr", "del", "s",
];
const ALLOWED_ATTR = ["href", "title", "class", "start"];
const SAFE_HREF = /^(?:https?:|mailto:)/i;
const CODE_CLASS = /^language-[\w+#.-]{1,40}$/;

// A private instance, so these hooks never leak into other users of DOMPurify.
let purifier: ReturnType<typeof createDOMPurify> | undefined;

function getPurifier(): ReturnType<typeof createDOMPurify> {
  if (purifier) return purifier;
  const instance = createDOMPurify(window);
  instance.addHook("afterSanitizeAttributes", (node) => {
    if (!(node instanceof Element)) return;
    const cls = node.getAttribute("class");
    if (cls !== null && !(node.tagName === "CODE" && CODE_CLASS.test(cls))) {
      node.removeAttribute("class");
    }
    if (node.tagName !== "A") return;
    const href = node.getAttribute("href");
    // Relative and fragment links mean nothing inside a chat message; only absolute
    // web and mail links survive.
    if (href === null || !SAFE_HREF.test(href.trim())) node.removeAttribute("href");
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  });
  purifier = instance;
  return instance;
}

function sanitize(html: string): string {
  return getPurifier().sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOWED_URI_REGEXP: SAFE_HREF,
    // DOMPurify checks every attribute not listed as URI-safe against the URI regexp.
    ADD_URI_SAFE_ATTR: ["start"],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
  });
}

// While an answer streams, the same text is often rendered twice in a row (a re-render
// without new tokens); a one-entry memo makes that free.
let lastText: string | undefined;
let lastHtml = "";

/** Renders untrusted markdown into a fresh, sanitised fragment. Never throws. */
export function renderMarkdown(text: string): DocumentFragment {
  const source = typeof text === "string" ? text : String(text ?? "");
  if (source !== lastText) {
    let html: string;
    try {
      html = sanitize(md.render(source));
    } catch {
      // markdown-it does not throw on any input we know of; if it ever does, the text
      // still reaches the user, as text.
      const fallback = document.createDocumentFragment();
      const p = document.createElement("p");
      p.textContent = source;
      fallback.append(p);
      return fallback;
    }
    lastText = source;
    lastHtml = html;
  }
  const template = document.createElement("template");
  template.innerHTML = lastHtml;
  return template.content;
}

/** Replaces `el`'s children with the rendered markdown. */
export function setMarkdown(el: HTMLElement, text: string): void {
  el.replaceChildren(renderMarkdown(text));
}
