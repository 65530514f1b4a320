// The items of the open thread, kept in order and updated by stream events. Pure data:
// the UI asks what changed and redraws only those items.

import type { AssistantMessageItem, ItemUpdate, ThreadItem, ThreadStreamEvent, WidgetItem } from "../protocol/types";

export type Change =
  | { kind: "upsert"; item: ThreadItem }
  | { kind: "remove"; itemId: string }
  | { kind: "none" };

export class ThreadItems {
  private items: ThreadItem[] = [];

  constructor(initial: ThreadItem[] = []) {
    this.reset(initial);
  }

  reset(items: ThreadItem[]): void {
    this.items = [...items].sort(byCreation);
  }

  all(): readonly ThreadItem[] {
    return this.items;
  }

  get(id: string): ThreadItem | undefined {
    return this.items.find((item) => item.id === id);
  }

  /** Older items from a later page (items.list pages go newest first). */
  prepend(older: ThreadItem[]): void {
    const known = new Set(this.items.map((item) => item.id));
    this.items = [...older.filter((item) => !known.has(item.id)), ...this.items].sort(byCreation);
  }

  /** The newest user message before the given item (what "retry" resends from). */
  lastUserMessageId(): string | undefined {
    for (let i = this.items.length - 1; i >= 0; i--) {
      if (this.items[i].type === "user_message") return this.items[i].id;
    }
    return undefined;
  }

  apply(event: ThreadStreamEvent): Change {
    switch (event.type) {
      case "thread.item.added":
      case "thread.item.done":
      case "thread.item.replaced":
        return this.upsert(event.item);
      case "thread.item.removed":
        this.items = this.items.filter((item) => item.id !== event.item_id);
        return { kind: "remove", itemId: event.item_id };
      case "thread.item.updated": {
        const item = this.get(event.item_id);
        if (!item) return { kind: "none" };
        const updated = applyUpdate(item, event.update);
        return updated ? this.upsert(updated) : { kind: "none" };
      }
      default:
        return { kind: "none" };
    }
  }

  private upsert(item: ThreadItem): Change {
    const index = this.items.findIndex((existing) => existing.id === item.id);
    if (index === -1) this.items.push(item);
    else this.items[index] = item;
    return { kind: "upsert", item };
  }
}

function applyUpdate(item: ThreadItem, update: ItemUpdate): ThreadItem | null {
  if (item.type === "assistant_message") {
    const message = item as AssistantMessageItem;
    const content = [...message.content];
    const index = typeof update.content_index === "number" ? update.content_index : 0;
    switch (update.type) {
      case "assistant_message.content_part.added":
      case "assistant_message.content_part.done":
        content[index] = update.content as AssistantMessageItem["content"][number];
        return { ...message, content };
      case "assistant_message.content_part.text_delta": {
        const part = content[index] ?? { type: "output_text", text: "", annotations: [] };
        content[index] = { ...part, text: part.text + String(update.delta ?? "") };
        return { ...message, content };
      }
    }
    return null;
  }
  if (item.type === "widget" && update.type === "widget.root.updated") {
    return { ...(item as WidgetItem), widget: update.widget };
  }
  if (item.type === "widget" && update.type === "widget.streaming_text.value_delta") {
    const widget = structuredClone((item as WidgetItem).widget);
    appendStreamingText(widget, String(update.component_id), String(update.delta ?? ""));
    return { ...(item as WidgetItem), widget };
  }
  if (item.type === "widget" && update.type === "widget.component.updated") {
    const widget = structuredClone((item as WidgetItem).widget);
    replaceComponent(widget, String(update.component_id), update.component);
    return { ...(item as WidgetItem), widget };
  }
  return null;
}

function walk(node: unknown, visit: (node: Record<string, unknown>) => boolean): boolean {
  if (!node || typeof node !== "object") return false;
  if (Array.isArray(node)) return node.some((child) => walk(child, visit));
  const record = node as Record<string, unknown>;
  if (visit(record)) return true;
  return Object.values(record).some((value) => typeof value === "object" && walk(value, visit));
}

function appendStreamingText(widget: unknown, componentId: string, delta: string): void {
  walk(widget, (node) => {
    if (node.id !== componentId) return false;
    node.value = String(node.value ?? "") + delta;
    return true;
  });
}

function replaceComponent(widget: unknown, componentId: string, component: unknown): void {
  walk(widget, (node) => {
    if (!Array.isArray(node.children)) return false;
    const index = node.children.findIndex((child) => (child as { id?: string })?.id === componentId);
    if (index === -1) return false;
    node.children[index] = component;
    return true;
  });
}

function byCreation(a: ThreadItem, b: ThreadItem): number {
  // Ids are time-sortable (ULIDs) on this backend; created_at breaks no ties better.
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
