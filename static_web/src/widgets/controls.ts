/**
 * Interactive components: Button, Form and the form fields. Every field carries
 * `data-ck-field="<name>"` so collectForm can find it; its native `name` is set too,
 * except on radios, whose native name is made unique so two widgets on one page never
 * share a radio group.
 */
import { collectForm, dispatch, scopeValues, submit } from "./actions";
import { iconSvg } from "./icons";
import { applyBox } from "./style";
import {
  type ActionConfig,
  bool,
  childrenOf,
  type FormScope,
  isNode,
  make,
  oneOf,
  readAction,
  type RenderContext,
  str,
  text,
  type WidgetNode,
} from "./types";

const CONTROL_SIZES = ["3xs", "2xs", "xs", "sm", "md", "lg", "xl", "2xl", "3xl"] as const;
const VARIANTS = ["solid", "soft", "outline", "ghost"] as const;
const BUTTON_COLORS = ["primary", "secondary", "info", "discovery", "success", "caution", "warning", "danger"] as const;
const INPUT_TYPES = ["number", "email", "text", "password", "tel", "url"] as const;
const DATE = /^\d{4}-\d{2}-\d{2}/;
const MAX_PATTERN = 500;

let uid = 0;
export function nextId(prefix: string): string {
  uid += 1;
  return `${prefix}-${uid}`;
}

function appendChildren(parent: HTMLElement, node: WidgetNode, ctx: RenderContext): void {
  for (const child of childrenOf(node)) {
    const el = ctx.renderChild(child, ctx);
    if (el) parent.append(el);
  }
}

/** A readable name for an icon-only button: "todo.complete" → "Complete". */
function accessibleName(action: ActionConfig | undefined, icon: unknown): string {
  const source = action?.type.split(".").pop() ?? (typeof icon === "string" ? icon : "");
  const words = source.replace(/^[a-z]+:/, "").replace(/[_\-.]+/g, " ").trim();
  return words ? words[0].toUpperCase() + words.slice(1) : "Button";
}

function iconSpan(name: unknown, cls: string): HTMLSpanElement {
  const span = document.createElement("span");
  span.className = `ck-button-icon ${cls}`;
  span.append(iconSvg(name));
  return span;
}

function controlLook(el: HTMLElement, node: WidgetNode): void {
  const size = oneOf(node.size, CONTROL_SIZES);
  if (size) el.dataset.size = size;
  const variant = oneOf(node.variant, VARIANTS);
  if (variant) el.dataset.variant = variant;
  if (bool(node, "pill")) el.classList.add("ck-pill");
  if (bool(node, "block")) el.classList.add("ck-block");
}

export function renderButton(node: WidgetNode, ctx: RenderContext): HTMLButtonElement {
  const btn = make("button", "Button");
  const action = readAction(node.onClickAction);
  const form = ctx.form;
  const isSubmit = bool(node, "submit") && form !== undefined;
  // A submit button keeps its native role so Enter in a field submits the form;
  // the click itself is always handled here, never by the browser.
  btn.type = isSubmit ? "submit" : "button";
  const label = text(node, "label");
  if (node.iconStart !== undefined) btn.append(iconSpan(node.iconStart, "ck-icon-start"));
  if (label) {
    const span = document.createElement("span");
    span.className = "ck-button-label";
    span.textContent = label;
    btn.append(span);
  } else {
    btn.setAttribute("aria-label", accessibleName(action, node.iconStart ?? node.iconEnd));
    btn.classList.add("ck-icon-only");
  }
  if (node.iconEnd !== undefined) btn.append(iconSpan(node.iconEnd, "ck-icon-end"));
  controlLook(btn, node);
  const style = oneOf(node.style, ["primary", "secondary"] as const);
  btn.dataset.color = oneOf(node.color, BUTTON_COLORS) ?? style ?? "secondary";
  btn.dataset.variant ??= style === "primary" || node.color !== undefined ? "solid" : "outline";
  if (bool(node, "uniform")) btn.classList.add("ck-uniform");
  if (bool(node, "disabled")) btn.disabled = true;
  if (action) btn.dataset.actionType = action.type;
  btn.addEventListener("click", (event) => {
    if (isSubmit && form) {
      event.preventDefault();
      submit(ctx, form, btn, form.submitAction ?? action ?? form.confirmAction, true);
    } else if (action) {
      dispatch(ctx, action, btn, scopeValues(ctx));
    }
  });
  return btn;
}

/** Makes `el` a form scope: its submit event (Enter in a field) never navigates. */
export function formScope(
  el: HTMLFormElement,
  ctx: RenderContext,
  submitAction: ActionConfig | undefined,
  confirmAction: ActionConfig | undefined,
): FormScope {
  const scope: FormScope = { el, submitAction, confirmAction };
  el.classList.add("ck-form-scope");
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    // A form with a submit button gets a synthetic click on it instead, handled above.
    submit(ctx, scope, el, scope.submitAction ?? scope.confirmAction, false);
  });
  return scope;
}

export function renderForm(node: WidgetNode, ctx: RenderContext): HTMLFormElement {
  const form = make("form", "Form");
  applyBox(form, node, node.direction === "row" ? "row" : "col");
  const action = readAction(node.onSubmitAction);
  if (action) form.dataset.actionType = action.type;
  const scope = formScope(form, ctx, action, undefined);
  appendChildren(form, node, { ...ctx, form: scope });
  return form;
}

function field(el: HTMLElement & { name: string }, node: WidgetNode): string {
  const name = str(node, "name") ?? "";
  if (name) {
    el.name = name;
    el.dataset.ckField = name;
  }
  if (bool(node, "disabled")) {
    (el as HTMLInputElement).disabled = true;
    el.dataset.ckDisabled = "true";
  }
  return name;
}

/** Wires onChangeAction: formData is the form's values, or just this field outside a form. */
function onChange(el: HTMLElement, node: WidgetNode, ctx: RenderContext, name: string, value: () => unknown): void {
  const action = readAction(node.onChangeAction);
  if (!action) return;
  el.dataset.actionType = action.type;
  el.addEventListener("change", () => {
    const values = ctx.form ? collectForm(ctx.form.el) : { [name]: value() };
    dispatch(ctx, action, el, values);
  });
}

function textual(el: HTMLInputElement | HTMLTextAreaElement, node: WidgetNode): void {
  const placeholder = str(node, "placeholder");
  if (placeholder) el.placeholder = placeholder;
  if (bool(node, "required")) el.required = true;
  const defaultValue = text(node, "defaultValue");
  if (defaultValue) el.value = defaultValue;
  controlLook(el, node);
}

export function renderInput(node: WidgetNode): HTMLInputElement {
  const input = make("input", "Input");
  input.type = oneOf(node.inputType, INPUT_TYPES) ?? "text";
  field(input, node);
  textual(input, node);
  const pattern = str(node, "pattern");
  if (pattern && pattern.length <= MAX_PATTERN) input.pattern = pattern;
  return input;
}

export function renderTextarea(node: WidgetNode): HTMLTextAreaElement {
  const area = make("textarea", "Textarea");
  field(area, node);
  textual(area, node);
  const rows = node.rows;
  area.rows = typeof rows === "number" && Number.isInteger(rows) && rows > 0 && rows <= 50 ? rows : 3;
  return area;
}

export function renderSelect(node: WidgetNode, ctx: RenderContext): HTMLSelectElement {
  const select = make("select", "Select");
  const name = field(select, node);
  controlLook(select, node);
  const placeholder = str(node, "placeholder");
  const defaultValue = str(node, "defaultValue");
  if (placeholder) select.setAttribute("aria-label", placeholder);
  if (placeholder || defaultValue === undefined) {
    // An empty first choice, so nothing is silently preselected.
    const none = document.createElement("option");
    none.value = "";
    none.textContent = placeholder ?? "";
    select.append(none);
  }
  const options = Array.isArray(node.options) ? node.options : [];
  for (const raw of options) {
    if (!isNode(raw)) continue;
    const option = document.createElement("option");
    option.value = text(raw, "value");
    option.textContent = text(raw, "label") || option.value;
    if (bool(raw, "disabled")) option.disabled = true;
    select.append(option);
  }
  select.value = defaultValue ?? "";
  if (select.selectedIndex < 0) select.selectedIndex = 0;
  onChange(select, node, ctx, name, () => select.value);
  return select;
}

export function renderDatePicker(node: WidgetNode, ctx: RenderContext): HTMLInputElement {
  const input = make("input", "DatePicker");
  input.type = "date";
  const name = field(input, node);
  controlLook(input, node);
  const date = (key: string): string | undefined => {
    const match = DATE.exec(text(node, key));
    return match ? match[0] : undefined;
  };
  const value = date("defaultValue");
  if (value) input.value = value;
  const min = date("min");
  if (min) input.min = min;
  const max = date("max");
  if (max) input.max = max;
  const placeholder = str(node, "placeholder");
  if (placeholder) input.setAttribute("aria-label", placeholder);
  onChange(input, node, ctx, name, () => input.value);
  return input;
}

export function renderCheckbox(node: WidgetNode, ctx: RenderContext): HTMLLabelElement {
  const wrapper = make("label", "Checkbox");
  const input = document.createElement("input");
  input.type = "checkbox";
  input.className = "ck-checkbox-input";
  const name = field(input, node);
  if (bool(node, "defaultChecked")) input.checked = true;
  if (bool(node, "required")) input.required = true;
  const label = document.createElement("span");
  label.className = "ck-checkbox-label";
  label.textContent = text(node, "label");
  wrapper.append(input, label);
  onChange(input, node, ctx, name, () => input.checked);
  return wrapper;
}

export function renderRadioGroup(node: WidgetNode, ctx: RenderContext): HTMLFieldSetElement {
  const group = make("fieldset", "RadioGroup");
  group.setAttribute("role", "radiogroup");
  const name = str(node, "name") ?? "";
  if (name) group.dataset.ckField = name;
  group.setAttribute("aria-label", str(node, "ariaLabel") ?? name);
  if (bool(node, "disabled")) {
    group.disabled = true;
    group.dataset.ckDisabled = "true";
  }
  group.dataset.direction = node.direction === "row" ? "row" : "col";
  const groupName = nextId(`ck-radio-${name}`);
  const defaultValue = str(node, "defaultValue");
  const options = Array.isArray(node.options) ? node.options : [];
  options.forEach((raw, index) => {
    if (!isNode(raw)) return;
    const option = document.createElement("label");
    option.className = "ck-radio";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = groupName;
    input.value = text(raw, "value");
    if (bool(raw, "disabled")) input.disabled = true;
    if (defaultValue !== undefined && input.value === defaultValue) input.checked = true;
    if (index === 0 && bool(node, "required")) input.required = true;
    const span = document.createElement("span");
    span.textContent = text(raw, "label") || input.value;
    option.append(input, span);
    group.append(option);
  });
  onChange(group, node, ctx, name, () => {
    const checked = group.querySelector<HTMLInputElement>("input:checked");
    return checked ? checked.value : "";
  });
  return group;
}

export function renderLabel(node: WidgetNode): HTMLLabelElement {
  const label = make("label", "Label");
  label.textContent = text(node, "value");
  const fieldName = str(node, "fieldName");
  // Resolved to a `for=` once the whole widget exists (the field may come later).
  if (fieldName) label.dataset.forField = fieldName;
  return label;
}

/** Points each Label at its field, preferring a field in the same form scope. */
export function linkLabels(root: HTMLElement): void {
  const labels = root.querySelectorAll<HTMLLabelElement>("label[data-for-field]");
  if (labels.length === 0) return;
  const fields = Array.from(root.querySelectorAll<HTMLElement>("[data-ck-field]"));
  for (const label of labels) {
    const name = label.dataset.forField;
    const scope = label.closest(".ck-form-scope");
    const candidates = fields.filter((f) => f.dataset.ckField === name);
    const match = candidates.find((f) => f.closest(".ck-form-scope") === scope) ?? candidates[0];
    if (!match) continue;
    const target = match instanceof HTMLFieldSetElement
      ? match.querySelector<HTMLInputElement>("input")
      : match;
    if (!target) continue;
    if (!target.id) target.id = nextId("ck-field");
    label.htmlFor = target.id;
  }
}
