/**
 * Renders ChatKit widget JSON (chatkit/widgets.py) into DOM elements.
 *
 * The JSON comes from the server but carries model- and user-authored strings, so it is
 * treated as untrusted: no innerHTML, no unvalidated styles, no unchecked URLs. It may
 * also be malformed (an older server, a hand-written template): renderWidget never
 * throws; whatever it cannot render becomes a visible `ck-widget-unknown` box.
 */
import {
  renderBadge,
  renderBox,
  renderCard,
  renderChart,
  renderDivider,
  renderIcon,
  renderImage,
  renderListView,
  renderListViewItem,
  renderMarkdownNode,
  renderSpacer,
  renderText,
  renderTransition,
} from "./components";
import {
  linkLabels,
  renderButton,
  renderCheckbox,
  renderDatePicker,
  renderForm,
  renderInput,
  renderLabel,
  renderRadioGroup,
  renderSelect,
  renderTextarea,
} from "./controls";
import {
  childrenOf,
  isNode,
  MAX_DEPTH,
  type RenderContext,
  type WidgetHost,
  type WidgetNode,
} from "./types";

export type { ActionConfig, WidgetHost } from "./types";
export { safeImageSrc } from "./components";

type Renderer = (node: WidgetNode, ctx: RenderContext) => HTMLElement;

const RENDERERS: Record<string, Renderer> = {
  Card: renderCard,
  ListView: renderListView,
  ListViewItem: renderListViewItem,
  Basic: (node, ctx) => renderBox(node, ctx, "Basic", node.direction === "row" ? "row" : "col"),
  Box: (node, ctx) => renderBox(node, ctx, "Box", node.direction === "row" ? "row" : "col"),
  Row: (node, ctx) => renderBox(node, ctx, "Row", "row"),
  Col: (node, ctx) => renderBox(node, ctx, "Col", "col"),
  Text: (node) => renderText(node, "Text"),
  Title: (node) => renderText(node, "Title"),
  Caption: (node) => renderText(node, "Caption"),
  Markdown: renderMarkdownNode,
  Badge: renderBadge,
  Button: renderButton,
  Image: renderImage,
  Icon: renderIcon,
  Divider: renderDivider,
  Spacer: renderSpacer,
  Form: renderForm,
  Input: renderInput,
  Textarea: renderTextarea,
  Select: renderSelect,
  Checkbox: renderCheckbox,
  RadioGroup: renderRadioGroup,
  DatePicker: renderDatePicker,
  Label: renderLabel,
  Chart: renderChart,
  Transition: renderTransition,
};

const TEXT_KEYS = ["value", "label", "text", "title", "placeholder"];
const MAX_FALLBACK_TEXTS = 20;

/** The human-readable strings inside an unsupported node, so its content is not lost. */
function textsInside(node: unknown, out: string[], depth: number): string[] {
  if (!isNode(node) || depth > 8 || out.length >= MAX_FALLBACK_TEXTS) return out;
  for (const key of TEXT_KEYS) {
    const value = node[key];
    if (typeof value === "string" && value.trim() && out.length < MAX_FALLBACK_TEXTS) out.push(value);
  }
  for (const child of childrenOf(node)) textsInside(child, out, depth + 1);
  return out;
}

function fallback(type: string, texts: string[], reason: string): HTMLElement {
  const box = document.createElement("div");
  box.className = "ck-widget-unknown";
  box.dataset.component = type;
  const head = document.createElement("div");
  head.className = "ck-widget-unknown-type";
  head.textContent = `${reason}: ${type}`;
  box.append(head);
  for (const value of texts) {
    const line = document.createElement("div");
    line.textContent = value;
    box.append(line);
  }
  return box;
}

function renderChild(node: unknown, ctx: RenderContext): HTMLElement | null {
  if (node === null || node === undefined || typeof node === "boolean") return null;
  if (ctx.depth >= MAX_DEPTH) {
    const deep = fallback("…", [], "Widget nested too deeply");
    deep.classList.add("ck-widget-too-deep");
    return deep;
  }
  if (typeof node === "string" || typeof node === "number") {
    return fallback(typeof node, [String(node)], "Unsupported widget");
  }
  if (!isNode(node)) return fallback("(invalid)", [], "Unsupported widget");
  const type = typeof node.type === "string" ? node.type : "(no type)";
  const renderer = Object.prototype.hasOwnProperty.call(RENDERERS, type) ? RENDERERS[type] : undefined;
  if (!renderer) return fallback(type, textsInside(node, [], 0), "Unsupported widget");
  const el = renderer(node, { ...ctx, depth: ctx.depth + 1 });
  const id = node.id;
  if (typeof id === "string" && id.length <= 200) el.dataset.id = id;
  return el;
}

/** Renders a widget tree. Never throws; the result carries the class `ck-widget`. */
export function renderWidget(widget: unknown, host: WidgetHost): HTMLElement {
  const root: RenderContext["root"] = { el: undefined };
  const ctx: RenderContext = { host, depth: 0, root, form: undefined, renderChild };
  let el: HTMLElement;
  try {
    el = renderChild(widget, ctx) ?? fallback("(empty)", [], "Unsupported widget");
    linkLabels(el);
  } catch {
    // Only a renderer bug lands here; the chat must still go on.
    el = fallback(isNode(widget) && typeof widget.type === "string" ? widget.type : "(invalid)",
      textsInside(widget, [], 0), "Widget could not be shown");
  }
  el.classList.add("ck-widget");
  root.el = el;
  return el;
}
