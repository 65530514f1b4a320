/**
 * Display and layout components. All widget strings reach the DOM through textContent
 * (Markdown through renderMarkdown), attribute values, or the validated style helpers.
 */
import { setMarkdown } from "../markdown";
import { dispatch, scopeValues, submit } from "./actions";
import { formScope } from "./controls";
import { iconSvg } from "./icons";
import { applyBox, applyFlexItem, applySize, applySpacing, applyTypography, color, length, radius, spacing } from "./style";
import {
  type ActionConfig,
  bool,
  childrenOf,
  isNode,
  make,
  num,
  oneOf,
  readAction,
  type RenderContext,
  str,
  text,
  type WidgetNode,
} from "./types";

const TEXT_SIZES = ["xs", "sm", "md", "lg", "xl"] as const;
const TITLE_SIZES = ["sm", "md", "lg", "xl", "2xl", "3xl", "4xl", "5xl"] as const;
const CAPTION_SIZES = ["sm", "md", "lg"] as const;
const ICON_SIZES = ["xs", "sm", "md", "lg", "xl", "2xl", "3xl"] as const;
const BADGE_COLORS = ["secondary", "success", "danger", "warning", "info", "discovery"] as const;
const FITS = ["cover", "contain", "fill", "scale-down", "none"] as const;
const POSITIONS = ["top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right"] as const;
const INTERACTIVE = "button, a, input, select, textarea, label, [role=button]";
const MAX_CHART_ROWS = 100;

function appendChildren(parent: HTMLElement, node: WidgetNode, ctx: RenderContext): void {
  for (const child of childrenOf(node)) {
    const el = ctx.renderChild(child, ctx);
    if (el) parent.append(el);
  }
}

/**
 * Image sources: absolute http(s), data:image/…, blob:, or a relative path (same
 * origin). Whitespace and control characters are refused outright, because browsers
 * strip them while parsing ("java\tscript:" is javascript:).
 */
export function safeImageSrc(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "" || value.length > 100_000) return undefined;
  if (/[\u0000-\u0020\u007f]/.test(value)) return undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value);
  if (!scheme) return value.startsWith("\\") ? undefined : value;
  const name = scheme[1].toLowerCase();
  if (name === "http" || name === "https" || name === "blob") return value;
  if (name === "data" && /^data:image\/[a-z0-9.+-]+[;,]/i.test(value)) return value;
  return undefined;
}

function setTheme(el: HTMLElement, node: WidgetNode): void {
  const theme = oneOf(node.theme, ["light", "dark"] as const);
  if (theme) el.classList.add(`ck-theme-${theme}`);
}

/** The `status` header of a Card or ListView: favicon or icon, then text. */
function renderStatus(status: unknown): HTMLElement | null {
  if (!isNode(status)) return null;
  const el = document.createElement("div");
  el.className = "ck-status";
  const favicon = safeImageSrc(status.favicon);
  if (favicon) {
    const img = document.createElement("img");
    img.className = bool(status, "frame") ? "ck-status-favicon ck-framed" : "ck-status-favicon";
    img.alt = "";
    img.src = favicon;
    el.append(img);
  } else if (status.icon !== undefined) {
    const icon = document.createElement("span");
    icon.className = "ck-status-icon";
    icon.append(iconSvg(status.icon));
    el.append(icon);
  }
  const label = document.createElement("span");
  label.textContent = text(status, "text");
  el.append(label);
  return el;
}

function cardAction(value: unknown): { label: string; action: ActionConfig } | undefined {
  if (!isNode(value)) return undefined;
  const action = readAction(value.action);
  return action ? { label: text(value, "label") || action.type, action } : undefined;
}

export function renderCard(node: WidgetNode, ctx: RenderContext): HTMLElement {
  const asForm = bool(node, "asForm");
  const card = asForm ? make("form", "Card") : make("div", "Card");
  const size = oneOf(node.size, ["sm", "md", "lg", "full"] as const);
  if (size) card.dataset.size = size;
  setTheme(card, node);
  const bg = color(node.background, "background");
  if (bg) card.style.background = bg;
  const status = renderStatus(node.status);
  if (status) card.append(status);

  const confirm = cardAction(node.confirm);
  const cancel = cardAction(node.cancel);
  const scope = card instanceof HTMLFormElement
    ? formScope(card, ctx, undefined, confirm?.action)
    : ctx.form;
  const inner: RenderContext = { ...ctx, form: scope };

  const body = document.createElement("div");
  body.className = "ck-card-body";
  applySpacing(body, "padding", node.padding);
  appendChildren(body, node, inner);
  card.append(body);

  if (confirm || cancel) {
    const footer = document.createElement("div");
    footer.className = "ck-card-actions";
    const button = (spec: { label: string; action: ActionConfig }, which: "confirm" | "cancel") => {
      const btn = make("button", "Button");
      btn.type = "button";
      btn.classList.add(`ck-card-${which}`);
      btn.dataset.color = which === "confirm" ? "primary" : "secondary";
      btn.dataset.variant = which === "confirm" ? "solid" : "outline";
      btn.dataset.actionType = spec.action.type;
      btn.textContent = spec.label;
      btn.addEventListener("click", () => {
        if (asForm && scope) submit(inner, scope, btn, spec.action, which === "confirm");
        else dispatch(inner, spec.action, btn, scopeValues(inner));
      });
      footer.append(btn);
    };
    if (cancel) button(cancel, "cancel");
    if (confirm) button(confirm, "confirm");
    card.append(footer);
  }
  return card;
}

export function renderListView(node: WidgetNode, ctx: RenderContext): HTMLElement {
  const list = make("div", "ListView");
  list.setAttribute("role", "list");
  setTheme(list, node);
  const row = (cls: string): HTMLDivElement => {
    const el = document.createElement("div");
    el.setAttribute("role", "listitem");
    el.className = cls;
    list.append(el);
    return el;
  };
  const status = renderStatus(node.status);
  if (status) row("ck-list-view-status").append(status);

  const limit = num(node, "limit");
  const max = limit !== undefined && limit >= 1 ? Math.floor(limit) : Infinity;
  const hidden: HTMLElement[] = [];
  let index = 0;
  for (const child of childrenOf(node)) {
    const el = ctx.renderChild(child, ctx);
    if (!el) continue;
    const item = row("ck-list-view-row");
    item.append(el);
    if (index >= max) {
      item.hidden = true;
      hidden.push(item);
    }
    index += 1;
  }
  if (hidden.length > 0) {
    const more = row("ck-list-view-more-row");
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "ck-list-view-more";
    btn.textContent = `Show more (${hidden.length})`;
    btn.addEventListener("click", () => {
      hidden.forEach((el) => {
        el.hidden = false;
      });
      more.remove();
    });
    more.append(btn);
  }
  return list;
}

export function renderListViewItem(node: WidgetNode, ctx: RenderContext): HTMLElement {
  const item = make("div", "ListViewItem");
  applyBox(item, { align: "center", gap: 2, ...node }, "row");
  appendChildren(item, node, ctx);
  const action = readAction(node.onClickAction);
  if (!action) return item;
  item.setAttribute("role", "button");
  item.tabIndex = 0;
  item.dataset.actionType = action.type;
  const fire = (): void => {
    if (item.getAttribute("aria-disabled") === "true") return;
    dispatch(ctx, action, item, scopeValues(ctx));
  };
  item.addEventListener("click", (event) => {
    // A button or field inside the row handles its own clicks.
    const hit = event.target instanceof Element ? event.target.closest(INTERACTIVE) : null;
    if (hit && hit !== item) return;
    fire();
  });
  item.addEventListener("keydown", (event) => {
    if (event.target !== item || (event.key !== "Enter" && event.key !== " ")) return;
    event.preventDefault();
    fire();
  });
  return item;
}

export function renderBox(node: WidgetNode, ctx: RenderContext, type: string, direction: "row" | "col"): HTMLElement {
  const box = make("div", type);
  applyBox(box, node, direction);
  appendChildren(box, node, ctx);
  return box;
}

export function renderText(node: WidgetNode, type: "Text" | "Title" | "Caption"): HTMLElement {
  const el = type === "Title" ? make("h3", type) : make("div", type);
  el.textContent = text(node, "value");
  const sizes = type === "Title" ? TITLE_SIZES : type === "Caption" ? CAPTION_SIZES : TEXT_SIZES;
  applyTypography(el, node, sizes);
  return el;
}

export function renderMarkdownNode(node: WidgetNode): HTMLElement {
  const el = make("div", "Markdown");
  setMarkdown(el, text(node, "value"));
  return el;
}

export function renderBadge(node: WidgetNode): HTMLElement {
  const el = make("span", "Badge");
  el.textContent = text(node, "label");
  el.dataset.color = oneOf(node.color, BADGE_COLORS) ?? "secondary";
  el.dataset.variant = oneOf(node.variant, ["solid", "soft", "outline"] as const) ?? "soft";
  const size = oneOf(node.size, ["sm", "md", "lg"] as const);
  if (size) el.dataset.size = size;
  if (bool(node, "pill")) el.classList.add("ck-pill");
  return el;
}

export function renderImage(node: WidgetNode): HTMLElement {
  const src = safeImageSrc(node.src);
  const alt = text(node, "alt");
  if (!src) {
    // Keep the slot (and the alt text) but never hand the browser a refused URL.
    const blocked = make("div", "Image");
    blocked.classList.add("ck-image-blocked");
    blocked.setAttribute("role", "img");
    blocked.setAttribute("aria-label", alt || "Image not shown");
    blocked.textContent = alt;
    applySize(blocked, node);
    return blocked;
  }
  const img = make("img", "Image");
  img.alt = alt;
  img.loading = "lazy";
  img.decoding = "async";
  img.referrerPolicy = "no-referrer";
  img.src = src;
  applySize(img, node);
  applyFlexItem(img, node);
  applySpacing(img, "margin", node.margin);
  const fit = oneOf(node.fit, FITS);
  if (fit) img.style.objectFit = fit;
  const position = oneOf(node.position, POSITIONS);
  if (position) img.style.objectPosition = position;
  const r = radius(node.radius);
  if (r) img.style.borderRadius = r;
  const bg = color(node.background, "background");
  if (bg) img.style.background = bg;
  if (bool(node, "frame")) img.classList.add("ck-framed");
  if (bool(node, "flush")) img.classList.add("ck-flush");
  return img;
}

export function renderIcon(node: WidgetNode): HTMLElement {
  const el = make("span", "Icon");
  el.setAttribute("aria-hidden", "true");
  el.append(iconSvg(node.name));
  const size = oneOf(node.size, ICON_SIZES);
  if (size) el.dataset.size = size;
  const fg = color(node.color, "text");
  if (fg) el.style.color = fg;
  return el;
}

export function renderDivider(node: WidgetNode): HTMLElement {
  const hr = make("hr", "Divider");
  const gap = spacing(node.spacing);
  if (gap) hr.style.margin = `${gap} 0`;
  const size = length(node.size);
  if (size) hr.style.borderTopWidth = size;
  const fg = color(node.color, "border");
  if (fg) hr.style.borderTopColor = fg;
  if (bool(node, "flush")) hr.classList.add("ck-flush");
  return hr;
}

export function renderSpacer(node: WidgetNode): HTMLElement {
  const el = make("div", "Spacer");
  el.setAttribute("aria-hidden", "true");
  const min = length(node.minSize);
  if (min) el.style.flexBasis = min;
  return el;
}

/** Charts are shown as their data table: readable, accessible, and dependency-free. */
export function renderChart(node: WidgetNode): HTMLElement {
  const table = make("table", "Chart");
  applySize(table, node);
  const xAxis = node.xAxis;
  const xKey = typeof xAxis === "string" ? xAxis : isNode(xAxis) ? str(xAxis, "dataKey") ?? "" : "";
  const labels = isNode(xAxis) && isNode(xAxis.labels) ? xAxis.labels : {};
  const series = (Array.isArray(node.series) ? node.series : []).filter(isNode);
  const cell = (tag: "th" | "td", value: string): HTMLTableCellElement => {
    const el = document.createElement(tag);
    el.textContent = value;
    return el;
  };
  const head = table.createTHead().insertRow();
  head.append(cell("th", xKey), ...series.map((s) => cell("th", text(s, "label") || text(s, "dataKey"))));
  const body = table.createTBody();
  const rows = (Array.isArray(node.data) ? node.data : []).filter(isNode).slice(0, MAX_CHART_ROWS);
  for (const data of rows) {
    const row = body.insertRow();
    const x = text(data, xKey);
    const shown = isNode(labels) && typeof labels[x] === "string" ? (labels[x] as string) : x;
    row.append(cell("th", shown), ...series.map((s) => cell("td", text(data, text(s, "dataKey")))));
  }
  return table;
}

export function renderTransition(node: WidgetNode, ctx: RenderContext): HTMLElement {
  const el = make("div", "Transition");
  appendChildren(el, node, ctx);
  return el;
}
