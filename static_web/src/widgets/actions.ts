/**
 * Firing actions: form value collection, the loading state, and the double-click guard.
 * The host's promise may reject or the host may throw synchronously; either way the
 * element returns to normal and nothing escapes as an unhandled rejection.
 */
import type { ActionConfig, FormScope, RenderContext } from "./types";

/** Elements with an action in flight: further activations are ignored until it settles. */
const pending = new WeakSet<HTMLElement>();
/** How many actions hold an element busy, so overlapping actions clear it only once. */
const busyCount = new WeakMap<HTMLElement, number>();
/** The disabled state an element had before we disabled it, to restore it exactly. */
const wasDisabled = new WeakMap<HTMLElement, boolean>();

type Disableable = HTMLButtonElement | HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | HTMLFieldSetElement;

function disableable(el: HTMLElement): el is Disableable {
  return (
    el instanceof HTMLButtonElement ||
    el instanceof HTMLInputElement ||
    el instanceof HTMLSelectElement ||
    el instanceof HTMLTextAreaElement ||
    el instanceof HTMLFieldSetElement
  );
}

function holdBusy(el: HTMLElement, disable: boolean): void {
  const count = busyCount.get(el) ?? 0;
  busyCount.set(el, count + 1);
  if (count > 0) return;
  el.setAttribute("aria-busy", "true");
  el.classList.add("ck-loading");
  if (!disable) return;
  if (disableable(el)) {
    wasDisabled.set(el, el.disabled);
    el.disabled = true;
  } else {
    wasDisabled.set(el, el.getAttribute("aria-disabled") === "true");
    el.setAttribute("aria-disabled", "true");
  }
}

function releaseBusy(el: HTMLElement): void {
  const count = (busyCount.get(el) ?? 1) - 1;
  if (count > 0) {
    busyCount.set(el, count);
    return;
  }
  busyCount.delete(el);
  el.removeAttribute("aria-busy");
  el.classList.remove("ck-loading");
  if (!wasDisabled.has(el)) return;
  const before = wasDisabled.get(el) === true;
  wasDisabled.delete(el);
  if (disableable(el)) el.disabled = before;
  else if (before) el.setAttribute("aria-disabled", "true");
  else el.removeAttribute("aria-disabled");
}

/** The values of the fields that belong to `scope` (not to a form nested inside it). */
export function collectForm(scope: HTMLElement): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const el of scope.querySelectorAll<HTMLElement>("[data-ck-field]")) {
    if (el.closest(".ck-form-scope") !== scope) continue;
    // Fields the widget itself disabled are left out, as a browser form would.
    if (el.dataset.ckDisabled === "true") continue;
    const name = el.dataset.ckField ?? "";
    if (el instanceof HTMLInputElement && el.type === "checkbox") {
      values[name] = el.checked;
    } else if (
      el instanceof HTMLInputElement ||
      el instanceof HTMLSelectElement ||
      el instanceof HTMLTextAreaElement
    ) {
      values[name] = el.value;
    } else {
      const checked = el.querySelector<HTMLInputElement>("input[type=radio]:checked");
      values[name] = checked ? checked.value : "";
    }
  }
  return values;
}

/**
 * Calls host.onAction, showing the loading state until its promise settles.
 * `lock` is an extra element guarded against re-entry (the form, so Enter and a click
 * cannot submit twice).
 */
export function dispatch(
  ctx: RenderContext,
  action: ActionConfig,
  source: HTMLElement,
  formData: Record<string, unknown> | undefined,
  lock?: HTMLElement,
): void {
  if (pending.has(source) || (lock !== undefined && pending.has(lock))) return;
  const locks = lock ? [source, lock] : [source];
  locks.forEach((el) => pending.add(el));

  const behavior = action.loadingBehavior ?? "auto";
  const busy: HTMLElement[] = [];
  if (behavior !== "none") {
    holdBusy(source, true);
    busy.push(source);
    const container = ctx.root.el;
    if (behavior === "container" && container && container !== source) {
      holdBusy(container, false);
      busy.push(container);
    }
  }

  let result: unknown;
  try {
    result = ctx.host.onAction(action, formData, source);
  } catch (error) {
    result = Promise.reject(error);
  }
  const settle = (): void => {
    locks.forEach((el) => pending.delete(el));
    busy.forEach(releaseBusy);
  };
  Promise.resolve(result).then(settle, settle);
}

/** Submits a form scope: validates (when asked), collects values, fires the action. */
export function submit(
  ctx: RenderContext,
  scope: FormScope,
  source: HTMLElement,
  action: ActionConfig | undefined,
  validate: boolean,
): void {
  if (!action) return;
  if (validate && !scope.el.reportValidity()) return;
  dispatch(ctx, action, source, collectForm(scope.el), scope.el);
}

/** formData for a non-submit action: the enclosing form's values, if any. */
export function scopeValues(ctx: RenderContext): Record<string, unknown> | undefined {
  return ctx.form ? collectForm(ctx.form.el) : undefined;
}
