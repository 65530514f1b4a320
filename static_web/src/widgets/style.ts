/**
 * Layout and colour props → inline styles. Widget JSON is untrusted, so nothing from it
 * is copied into a style verbatim: enum props go through fixed tables, numbers are
 * range-checked, and the few free-form strings ChatKit allows (lengths, colours) must
 * match a strict regex first. Anything else is silently dropped.
 */
import { isNode, oneOf, type WidgetNode } from "./types";

const SPACE_PX = 4; // one ChatKit spacing unit
const LENGTH = /^(?:\d{1,4}(?:\.\d{1,3})?)(?:px|rem|em|%|vh|vw)$/;
const HEX = /^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;
const FUNC = /^(?:rgba?|hsla?)\(\s*[\d.%]+(?:\s*[,\s/]\s*[\d.%]+){2,3}\s*\)$/i;
const PRIMITIVE = /^(red|orange|yellow|green|teal|blue|indigo|purple|pink|gray)-(50|[1-9]00)$/;
const HUES: Record<string, [number, number]> = {
  red: [0, 72], orange: [25, 90], yellow: [45, 93], green: [142, 60], teal: [173, 70],
  blue: [217, 85], indigo: [239, 75], purple: [271, 70], pink: [330, 75], gray: [220, 9],
};

const TEXT_TOKENS: Record<string, string> = {
  prose: "var(--ck-fg, #1f2328)",
  primary: "var(--ck-fg, #1f2328)",
  emphasis: "var(--ck-fg, #1f2328)",
  secondary: "var(--ck-muted, #6b7280)",
  tertiary: "var(--ck-muted, #9ca3af)",
  success: "var(--ck-success, #15803d)",
  warning: "var(--ck-warning, #b45309)",
  danger: "var(--ck-danger, #dc2626)",
  info: "var(--ck-info, #2563eb)",
};
const BACKGROUND_TOKENS: Record<string, string> = {
  surface: "var(--ck-surface, #ffffff)",
  "surface-secondary": "var(--ck-surface-secondary, var(--ck-bg, #f6f7f9))",
  "surface-tertiary": "var(--ck-surface-tertiary, var(--ck-bg, #eef0f3))",
  "surface-elevated": "var(--ck-surface, #ffffff)",
  "surface-elevated-secondary": "var(--ck-surface-secondary, #f6f7f9)",
};
const BORDER_TOKENS: Record<string, string> = {
  default: "var(--ck-border, #d0d7de)",
  subtle: "var(--ck-border-subtle, var(--ck-border, #e5e7eb))",
  strong: "var(--ck-border-strong, var(--ck-fg, #6b7280))",
};
export type ColorKind = "text" | "background" | "border";
const TOKENS: Record<ColorKind, Record<string, string>> = {
  text: TEXT_TOKENS,
  background: BACKGROUND_TOKENS,
  border: BORDER_TOKENS,
};

function primitive(token: string): string | undefined {
  const match = PRIMITIVE.exec(token);
  if (!match) return undefined;
  const [hue, sat] = HUES[match[1]];
  const shade = Number(match[2]);
  const light = Math.round(97 - (shade / 900) * 72);
  return `hsl(${hue}, ${sat}%, ${light}%)`;
}

function single(value: string, kind: ColorKind): string | undefined {
  const v = value.trim();
  return TOKENS[kind][v] ?? primitive(v) ?? (HEX.test(v) || FUNC.test(v) ? v : undefined);
}

/** A CSS colour for a ChatKit colour value (token, primitive, hex/rgb/hsl or {light, dark}). */
export function color(value: unknown, kind: ColorKind): string | undefined {
  if (typeof value === "string") return single(value, kind);
  if (isNode(value) && typeof value.light === "string" && typeof value.dark === "string") {
    const light = single(value.light, kind);
    const dark = single(value.dark, kind);
    if (light && dark) return `light-dark(${light}, ${dark})`;
    return light ?? dark;
  }
  return undefined;
}

/** A length: numbers are px, strings must be a plain CSS length. */
export function length(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= 10000) {
    return `${value}px`;
  }
  if (typeof value === "string" && (LENGTH.test(value) || value === "auto")) return value;
  return undefined;
}

/** Spacing: numbers are ChatKit spacing units, strings must be a plain CSS length. */
export function spacing(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= 64) {
    return `${value * SPACE_PX}px`;
  }
  return typeof value === "string" && LENGTH.test(value) ? value : undefined;
}

const RADII: Record<string, string> = {
  "2xs": "2px", xs: "4px", sm: "6px", md: "8px", lg: "12px", xl: "16px", "2xl": "20px",
  "3xl": "24px", "4xl": "32px", full: "9999px", "100%": "100%", none: "0",
};
export function radius(value: unknown): string | undefined {
  return typeof value === "string" ? RADII[value] : undefined;
}

type Edges = { top?: string; right?: string; bottom?: string; left?: string };

/** Number, length or a {top,right,bottom,left,x,y} object → per-edge values. */
function edges(value: unknown, read: (v: unknown) => string | undefined): Edges | undefined {
  const all = read(value);
  if (all) return { top: all, right: all, bottom: all, left: all };
  if (!isNode(value)) return undefined;
  const x = read(value.x);
  const y = read(value.y);
  return {
    top: read(value.top) ?? y,
    bottom: read(value.bottom) ?? y,
    left: read(value.left) ?? x,
    right: read(value.right) ?? x,
  };
}

export function applySpacing(el: HTMLElement, prop: "padding" | "margin", value: unknown): void {
  const e = edges(value, spacing);
  if (!e) return;
  if (e.top) el.style.setProperty(`${prop}-top`, e.top);
  if (e.right) el.style.setProperty(`${prop}-right`, e.right);
  if (e.bottom) el.style.setProperty(`${prop}-bottom`, e.bottom);
  if (e.left) el.style.setProperty(`${prop}-left`, e.left);
}

const BORDER_STYLES = ["solid", "dashed", "dotted", "double", "groove", "ridge", "inset", "outset"];

function borderValue(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 16) {
    return `${value}px solid ${BORDER_TOKENS.default}`;
  }
  if (!isNode(value) || typeof value.size !== "number") return undefined;
  const size = Math.min(Math.max(Math.round(value.size), 0), 16);
  const style = oneOf(value.style, BORDER_STYLES) ?? "solid";
  return `${size}px ${style} ${color(value.color, "border") ?? BORDER_TOKENS.default}`;
}

export function applyBorder(el: HTMLElement, value: unknown): void {
  const all = borderValue(value);
  if (all) {
    el.style.border = all;
    return;
  }
  const e = edges(value, borderValue);
  if (!e) return;
  if (e.top) el.style.borderTop = e.top;
  if (e.right) el.style.borderRight = e.right;
  if (e.bottom) el.style.borderBottom = e.bottom;
  if (e.left) el.style.borderLeft = e.left;
}

const ALIGN: Record<string, string> = {
  start: "flex-start", center: "center", end: "flex-end", baseline: "baseline", stretch: "stretch",
};
const JUSTIFY: Record<string, string> = {
  start: "flex-start", center: "center", end: "flex-end", between: "space-between",
  around: "space-around", evenly: "space-evenly", stretch: "stretch",
};
const WRAP = ["nowrap", "wrap", "wrap-reverse"];
const RATIO = /^\d{1,4}(?:\.\d{1,3})?(?:\s*\/\s*\d{1,4}(?:\.\d{1,3})?)?$/;

export function applyFlexItem(el: HTMLElement, node: WidgetNode): void {
  const flex = node.flex;
  if (typeof flex === "number" && Number.isFinite(flex) && flex >= 0 && flex <= 100) {
    el.style.flex = `${flex} ${flex} 0%`;
  } else if (flex === "auto" || flex === "none") {
    el.style.flex = flex;
  }
}

/** Size props shared by boxes, images and charts. */
export function applySize(el: HTMLElement, node: WidgetNode): void {
  const size = length(node.size);
  const minSize = length(node.minSize);
  const maxSize = length(node.maxSize);
  const set = (prop: string, value: string | undefined): void => {
    if (value) el.style.setProperty(prop, value);
  };
  set("width", length(node.width) ?? size);
  set("height", length(node.height) ?? size);
  set("min-width", length(node.minWidth) ?? minSize);
  set("min-height", length(node.minHeight) ?? minSize);
  set("max-width", length(node.maxWidth) ?? maxSize);
  set("max-height", length(node.maxHeight) ?? maxSize);
  const ratio = node.aspectRatio;
  if (typeof ratio === "number" && Number.isFinite(ratio) && ratio > 0) {
    el.style.aspectRatio = String(ratio);
  } else if (typeof ratio === "string" && RATIO.test(ratio)) {
    el.style.aspectRatio = ratio;
  }
}

/** Box, Row, Col, Form, ListViewItem: flex layout plus box decoration. */
export function applyBox(el: HTMLElement, node: WidgetNode, direction: "row" | "col"): void {
  el.style.display = "flex";
  el.style.flexDirection = direction === "row" ? "row" : "column";
  const align = typeof node.align === "string" ? ALIGN[node.align] : undefined;
  if (align) el.style.alignItems = align;
  const justify = typeof node.justify === "string" ? JUSTIFY[node.justify] : undefined;
  if (justify) el.style.justifyContent = justify;
  const wrap = oneOf(node.wrap, WRAP);
  if (wrap) el.style.flexWrap = wrap;
  const gap = spacing(node.gap);
  if (gap) el.style.gap = gap;
  applyFlexItem(el, node);
  applySize(el, node);
  applySpacing(el, "padding", node.padding);
  applySpacing(el, "margin", node.margin);
  applyBorder(el, node.border);
  const r = radius(node.radius);
  if (r) el.style.borderRadius = r;
  const bg = color(node.background, "background");
  if (bg) el.style.background = bg;
}

const TEXT_ALIGN: Record<string, string> = { start: "start", center: "center", end: "end" };
const WEIGHTS = ["normal", "medium", "semibold", "bold"];

/** Text, Title, Caption, Label: typography props as data attributes plus safe styles. */
export function applyTypography(el: HTMLElement, node: WidgetNode, sizes: readonly string[]): void {
  const size = oneOf(node.size, sizes);
  if (size) el.dataset.size = size;
  const weight = oneOf(node.weight, WEIGHTS);
  if (weight) el.dataset.weight = weight;
  const align = typeof node.textAlign === "string" ? TEXT_ALIGN[node.textAlign] : undefined;
  if (align) el.style.textAlign = align;
  const fg = color(node.color, "text");
  if (fg) el.style.color = fg;
  if (node.italic === true) el.style.fontStyle = "italic";
  if (node.lineThrough === true) el.style.textDecoration = "line-through";
  if (node.truncate === true) el.classList.add("ck-truncate");
  const maxLines = node.maxLines;
  if (typeof maxLines === "number" && Number.isInteger(maxLines) && maxLines > 0 && maxLines <= 100) {
    el.classList.add("ck-clamp");
    el.style.setProperty("--ck-lines", String(maxLines));
  }
  const minLines = node.minLines;
  if (typeof minLines === "number" && Number.isInteger(minLines) && minLines > 0 && minLines <= 100) {
    el.style.minHeight = `${minLines * 1.5}em`;
  }
  const width = length(node.width);
  if (width) el.style.width = width;
}
