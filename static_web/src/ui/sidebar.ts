// The thread history: newest first, loaded a page at a time; open, rename, delete.

import type { ThreadMetadata } from "../protocol/types";
import { h, icon } from "./dom";

export interface SidebarHandlers {
  open(threadId: string): void;
  rename(threadId: string, title: string): Promise<void>;
  remove(threadId: string): Promise<void>;
  loadMore(after: string | null): Promise<{ data: ThreadMetadata[]; has_more: boolean; after?: string | null }>;
}

export class Sidebar {
  private readonly list: HTMLUListElement;
  private readonly more: HTMLButtonElement;
  private readonly status: HTMLElement;
  private threads: ThreadMetadata[] = [];
  private after: string | null = null;
  private activeId: string | null = null;

  constructor(
    root: HTMLElement,
    private readonly handlers: SidebarHandlers,
  ) {
    this.list = h("ul", { className: "thread-list", "aria-label": "Conversations" });
    this.more = h("button", { type: "button", className: "ghost more", hidden: true, onclick: () => void this.loadPage() }, "Load older conversations");
    this.status = h("p", { className: "muted small", role: "status" });
    root.replaceChildren(this.list, this.more, this.status);
  }

  async reload(): Promise<void> {
    this.threads = [];
    this.after = null;
    this.list.replaceChildren();
    await this.loadPage();
  }

  setActive(threadId: string | null): void {
    this.activeId = threadId;
    for (const li of this.list.children) {
      const current = (li as HTMLElement).dataset.threadId === threadId;
      li.querySelector(".thread-open")?.toggleAttribute("aria-current", current);
      li.classList.toggle("active", current);
    }
  }

  /** A new or updated thread goes to the top (a new turn makes it the most recent). */
  upsert(thread: ThreadMetadata, moveToTop = false): void {
    const index = this.threads.findIndex((t) => t.id === thread.id);
    if (index === -1) this.threads.unshift(thread);
    else if (moveToTop) this.threads = [thread, ...this.threads.filter((t) => t.id !== thread.id)];
    else this.threads[index] = thread;
    this.draw();
  }

  private async loadPage(): Promise<void> {
    this.more.disabled = true;
    try {
      const page = await this.handlers.loadMore(this.after);
      const known = new Set(this.threads.map((t) => t.id));
      this.threads.push(...page.data.filter((t) => !known.has(t.id)));
      this.after = page.after ?? page.data.at(-1)?.id ?? null;
      this.more.hidden = !page.has_more;
      this.status.textContent = this.threads.length ? "" : "No conversations yet.";
      this.draw();
    } catch (error) {
      this.status.textContent = `Could not load conversations: ${(error as Error).message}`;
    } finally {
      this.more.disabled = false;
    }
  }

  private draw(): void {
    this.status.textContent = this.threads.length ? "" : this.status.textContent;
    this.list.replaceChildren(...this.threads.map((thread) => this.drawThread(thread)));
    this.setActive(this.activeId);
  }

  private drawThread(thread: ThreadMetadata): HTMLLIElement {
    const title = thread.title || "New conversation";
    const open = h("button", { type: "button", className: "thread-open", title, onclick: () => this.handlers.open(thread.id) }, title);
    const rename = h("button", { type: "button", className: "ghost", "aria-label": `Rename ${title}`, title: "Rename" }, icon("edit"));
    const remove = h("button", { type: "button", className: "ghost", "aria-label": `Delete ${title}`, title: "Delete" }, icon("trash"));
    const li = h("li", { "data-thread-id": thread.id }, open, h("span", { className: "thread-actions" }, rename, remove));
    rename.addEventListener("click", () => this.startRename(li, thread));
    remove.addEventListener("click", () => this.confirmDelete(li, thread));
    return li;
  }

  private startRename(li: HTMLLIElement, thread: ThreadMetadata): void {
    const input = h("input", { type: "text", value: thread.title || "", "aria-label": "New title", maxlength: 200, className: "rename-input" });
    const form = h("form", { className: "rename" }, input);
    let finished = false;
    const finish = async (save: boolean) => {
      if (finished) return;
      finished = true;
      const title = input.value.trim();
      if (save && title && title !== thread.title) {
        try {
          await this.handlers.rename(thread.id, title);
          thread.title = title;
        } catch (error) {
          this.status.textContent = `Could not rename: ${(error as Error).message}`;
        }
      }
      this.draw();
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void finish(true);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") void finish(false);
    });
    input.addEventListener("blur", () => void finish(true));
    li.replaceChildren(form);
    input.focus();
    input.select();
  }

  private confirmDelete(li: HTMLLIElement, thread: ThreadMetadata): void {
    const title = thread.title || "this conversation";
    const yes = h("button", { type: "button", className: "danger" }, "Delete");
    const no = h("button", { type: "button", className: "ghost" }, "Cancel");
    li.replaceChildren(h("div", { className: "confirm", role: "alertdialog", "aria-label": `Delete ${title}?` }, h("span", {}, `Delete “${title}”?`), yes, no));
    no.addEventListener("click", () => this.draw());
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        await this.handlers.remove(thread.id);
        this.threads = this.threads.filter((t) => t.id !== thread.id);
        this.status.textContent = this.threads.length ? "" : "No conversations yet.";
      } catch (error) {
        this.status.textContent = `Could not delete: ${(error as Error).message}`;
      }
      this.draw();
    });
    yes.focus();
  }
}
