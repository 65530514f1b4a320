import { describe, expect, it } from "vitest";
import type { AssistantMessageItem, ThreadItem, WidgetItem } from "../src/protocol/types";
import { ThreadItems } from "../src/state/thread-items";

const base = { thread_id: "thr_1" };
const user = (id: string, at: string): ThreadItem => ({ ...base, id, created_at: at, type: "user_message", content: [{ type: "input_text", text: id }] });
const assistant = (id: string, at: string, text = ""): AssistantMessageItem => ({ ...base, id, created_at: at, type: "assistant_message", content: text ? [{ type: "output_text", text }] : [] });

describe("ThreadItems", () => {
  it("keeps items in creation order whatever order pages arrive in", () => {
    const items = new ThreadItems([user("b", "2026-01-01T00:00:02Z"), user("a", "2026-01-01T00:00:01Z")]);
    items.prepend([user("z", "2025-12-31T00:00:00Z"), user("a", "2026-01-01T00:00:01Z")]);
    expect(items.all().map((i) => i.id)).toEqual(["z", "a", "b"]);
  });

  it("builds an answer from added, delta and done events", () => {
    const items = new ThreadItems();
    items.apply({ type: "thread.item.added", item: assistant("m1", "t1") });
    items.apply({ type: "thread.item.updated", item_id: "m1", update: { type: "assistant_message.content_part.added", content_index: 0, content: { type: "output_text", text: "" } } });
    for (const delta of ["Hel", "lo ", "**world**"]) {
      items.apply({ type: "thread.item.updated", item_id: "m1", update: { type: "assistant_message.content_part.text_delta", content_index: 0, delta } });
    }
    expect((items.get("m1") as AssistantMessageItem).content[0].text).toBe("Hello **world**");
    const change = items.apply({ type: "thread.item.done", item: assistant("m1", "t1", "Hello **world**!") });
    expect(change.kind).toBe("upsert");
    expect((items.get("m1") as AssistantMessageItem).content[0].text).toBe("Hello **world**!");
  });

  it("replaces a widget in place and removes items", () => {
    const widget: WidgetItem = { ...base, id: "w1", created_at: "t", type: "widget", widget: { type: "Card", children: [] } };
    const items = new ThreadItems([user("u1", "s"), widget]);
    items.apply({ type: "thread.item.replaced", item: { ...widget, widget: { type: "Card", children: [{ type: "Text", value: "done" }] } } });
    expect(items.all().map((i) => i.id)).toEqual(["u1", "w1"]);
    expect(JSON.stringify((items.get("w1") as WidgetItem).widget)).toContain("done");
    expect(items.apply({ type: "thread.item.removed", item_id: "w1" })).toEqual({ kind: "remove", itemId: "w1" });
    expect(items.all().map((i) => i.id)).toEqual(["u1"]);
  });

  it("applies widget streaming text and component updates by component id", () => {
    const widget: WidgetItem = { ...base, id: "w1", created_at: "t", type: "widget", widget: { type: "Card", children: [{ type: "Text", id: "t1", value: "Hi" }, { type: "Badge", id: "b1", label: "old" }] } };
    const items = new ThreadItems([widget]);
    items.apply({ type: "thread.item.updated", item_id: "w1", update: { type: "widget.streaming_text.value_delta", component_id: "t1", delta: " there", done: false } });
    items.apply({ type: "thread.item.updated", item_id: "w1", update: { type: "widget.component.updated", component_id: "b1", component: { type: "Badge", id: "b1", label: "new" } } });
    const json = JSON.stringify((items.get("w1") as WidgetItem).widget);
    expect(json).toContain('"value":"Hi there"');
    expect(json).toContain('"label":"new"');
    expect(JSON.stringify(widget.widget)).toContain('"label":"old"'); // the original is untouched
  });

  it("ignores updates for unknown items and unknown update types", () => {
    const items = new ThreadItems([assistant("m1", "t")]);
    expect(items.apply({ type: "thread.item.updated", item_id: "nope", update: { type: "assistant_message.content_part.text_delta", delta: "x" } }).kind).toBe("none");
    expect(items.apply({ type: "thread.item.updated", item_id: "m1", update: { type: "something.new" } }).kind).toBe("none");
  });

  it("finds the last user message for retry", () => {
    const items = new ThreadItems([user("u1", "1"), assistant("a1", "2"), user("u2", "3"), assistant("a2", "4")]);
    expect(items.lastUserMessageId()).toBe("u2");
  });
});
