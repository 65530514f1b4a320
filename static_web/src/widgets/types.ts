/**
 * Shared types and tolerant readers for ChatKit widget JSON (the Pydantic models in
 * chatkit/widgets.py, serialised with `exclude_none`). Everything arrives from the
 * network, so every read checks its type and falls back instead of trusting the shape.
 */

export interface ActionConfig {
  type: string;
  payload?: unknown;
  handler?: "server" | "client";
  loadingBehavior?: "auto" | "self" | "container" | "none";
}

export interface WidgetHost {
  /** Called when a Button/ListViewItem/Form submit/Select/Checkbox/RadioGroup/DatePicker change fires an action.
   *  `formData` holds the values of the enclosing Form (or Card with asForm) keyed by field name, when there is one.
   *  The promise resolves when the server has answered; the renderer shows a loading state on the source element (or the whole widget container for loadingBehavior "container") until then and disables double clicks. */
  onAction(
    action: ActionConfig,
    formData: Record<string, unknown> | undefined,
    source: HTMLElement,
  ): Promise<void>;
}

/** A widget node as received: an object whose fields are all unverified. */
export type WidgetNode = Record<string, unknown>;

export interface RenderContext {
  host: WidgetHost;
  depth: number;
  /** The element returned by renderWidget; the target of "container" loading. */
  root: { el: HTMLElement | undefined };
  /** The nearest enclosing Form / asForm Card, when there is one. */
  form: FormScope | undefined;
  renderChild(node: unknown, ctx: RenderContext): Node | null;
}

export interface FormScope {
  el: HTMLFormElement;
  /** Form.onSubmitAction; wins over a submit button's own onClickAction. */
  submitAction: ActionConfig | undefined;
  /** An asForm Card's confirm action: what a submit without any other action sends. */
  confirmAction: ActionConfig | undefined;
}

export const MAX_DEPTH = 64;

export function isNode(value: unknown): value is WidgetNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function str(node: WidgetNode, key: string): string | undefined {
  const value = node[key];
  return typeof value === "string" ? value : undefined;
}

/** Like `str`, but numbers become text too: templates sometimes emit bare numbers. */
export function text(node: WidgetNode, key: string): string {
  const value = node[key];
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return "";
}

export function num(node: WidgetNode, key: string): number | undefined {
  const value = node[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function bool(node: WidgetNode, key: string): boolean {
  return node[key] === true;
}

/** Returns `value` when it is one of `allowed`, so only known tokens reach the DOM. */
export function oneOf<T extends string>(value: unknown, allowed: readonly T[]): T | undefined {
  return typeof value === "string" && (allowed as readonly string[]).includes(value)
    ? (value as T)
    : undefined;
}

/** `children` may be a list, a single node (Transition, dynamic widgets) or absent. */
export function childrenOf(node: WidgetNode): unknown[] {
  const children = node.children;
  if (Array.isArray(children)) return children;
  if (children === undefined || children === null) return [];
  return [children];
}

const HANDLERS = ["server", "client"] as const;
const LOADING = ["auto", "self", "container", "none"] as const;

/** A clean ActionConfig, or undefined when `value` has no string `type`. */
export function readAction(value: unknown): ActionConfig | undefined {
  if (!isNode(value) || typeof value.type !== "string" || value.type === "") return undefined;
  const action: ActionConfig = { type: value.type };
  if ("payload" in value) action.payload = value.payload;
  const handler = oneOf(value.handler, HANDLERS);
  if (handler) action.handler = handler;
  const loading = oneOf(value.loadingBehavior, LOADING);
  if (loading) action.loadingBehavior = loading;
  return action;
}

export function kebab(type: string): string {
  return type.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

/** Creates `<tag class="ck-<component>" data-component="<Type>">`. */
export function make<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  type: string,
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.className = `ck-${kebab(type)}`;
  el.dataset.component = type;
  return el;
}
