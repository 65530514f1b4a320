// The conversation: user messages, streamed assistant answers (Markdown), widgets,
// plus the start screen, progress line and error/notice banners.

import { setMarkdown } from "../markdown";
import type { AssistantMessageItem, Attachment, ThreadItem, UseCaseInfo, UserMessageItem, WidgetItem } from "../protocol/types";
import { renderWidget, type ActionConfig } from "../widgets/render";
import { h, icon } from "./dom";

export interface MessageHandlers {
  onAction(item: WidgetItem, action: ActionConfig, formData: Record<string, unknown> | undefined): Promise<void>;
  onFeedback(item: ThreadItem, kind: "positive" | "negative"): Promise<void>;
  onPrompt(prompt: string): void;
  /** A URL the page may show for an attachment preview (may fetch it with credentials). */
  previewUrl(attachment: Attachment): Promise<string | null>;
}

const DRAWN = new Set(["user_message", "assistant_message", "widget"]);

export class MessageList {
  private readonly nodes = new Map<string, HTMLElement>();
  private readonly log: HTMLElement;
  private readonly progress: HTMLElement;
  private readonly banners: HTMLElement;
  private readonly announcer: HTMLElement;
  private pending = new Map<string, ThreadItem>();
  private frame = 0;

  constructor(
    root: HTMLElement,
    private readonly scroller: HTMLElement,
    private readonly handlers: MessageHandlers,
  ) {
    this.log = h("div", { className: "messages", role: "log", "aria-label": "Conversation" });
    this.progress = h("div", { className: "progress", role: "status", hidden: true });
    this.banners = h("div", { className: "banners" });
    // Screen readers hear each answer once, complete, rather than every delta.
    this.announcer = h("div", { className: "sr-only", "aria-live": "polite", "data-testid": "announcer" });
    root.replaceChildren(this.log, this.progress, this.banners, this.announcer);
  }

  clear(): void {
    this.nodes.clear();
    this.pending.clear();
    this.log.replaceChildren();
    this.clearBanners();
    this.setProgress(null);
  }

  showStart(useCase: UseCaseInfo): void {
    this.clear();
    const prompts = useCase.starter_prompts.map((p) =>
      h("button", { type: "button", className: "starter", onclick: () => this.handlers.onPrompt(p.prompt) }, p.label),
    );
    this.log.append(
      h(
        "section",
        { className: "start", "aria-label": "Start a conversation" },
        h("h2", {}, useCase.greeting || useCase.title),
        useCase.description ? h("p", { className: "muted" }, useCase.description) : null,
        prompts.length ? h("div", { className: "starters" }, ...prompts) : null,
      ),
    );
  }

  render(items: readonly ThreadItem[]): void {
    this.clear();
    for (const item of items) this.upsertNow(item, false);
    this.scrollToEnd(true);
  }

  /** Redraws are batched per animation frame: deltas can arrive faster than paints. */
  upsert(item: ThreadItem, streaming = false): void {
    if (!DRAWN.has(item.type)) return;
    if (!streaming) {
      this.pending.delete(item.id);
      this.upsertNow(item, false);
      return;
    }
    this.pending.set(item.id, item);
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        for (const pending of this.pending.values()) this.upsertNow(pending, true);
        this.pending.clear();
      });
    }
  }

  finishStreaming(item: ThreadItem): void {
    this.upsert(item, false);
    const node = this.nodes.get(item.id);
    node?.removeAttribute("aria-busy");
    if (item.type === "assistant_message") this.announcer.textContent = textOf(item as AssistantMessageItem);
  }

  remove(itemId: string): void {
    this.nodes.get(itemId)?.remove();
    this.nodes.delete(itemId);
    this.pending.delete(itemId);
  }

  setProgress(text: string | null): void {
    this.progress.hidden = !text;
    this.progress.textContent = text ?? "";
  }

  showError(message: string, retry?: () => void): void {
    const banner = h(
      "div",
      { className: "banner error", role: "alert" },
      h("span", {}, message),
      retry ? h("button", { type: "button", className: "retry", onclick: () => (banner.remove(), retry()) }, icon("retry"), "Retry") : null,
      h("button", { type: "button", className: "ghost", "aria-label": "Dismiss", onclick: () => banner.remove() }, icon("close")),
    );
    this.banners.append(banner);
    this.scrollToEnd(true);
  }

  showNotice(level: string, message: string, title?: string | null): void {
    const body = h("div", { className: "notice-body" });
    setMarkdown(body, message);
    this.banners.append(
      h("div", { className: `banner notice ${level}`, role: "status" }, title ? h("strong", {}, title) : null, body),
    );
  }

  clearBanners(): void {
    this.banners.replaceChildren();
  }

  private upsertNow(item: ThreadItem, streaming: boolean): void {
    if (!DRAWN.has(item.type)) return;
    const fresh = this.draw(item);
    if (streaming) fresh.setAttribute("aria-busy", "true");
    const existing = this.nodes.get(item.id);
    const follow = this.nearEnd();
    if (existing) existing.replaceWith(fresh);
    else {
      this.log.querySelector(".start")?.remove();
      this.log.append(fresh);
    }
    this.nodes.set(item.id, fresh);
    this.scrollToEnd(follow);
  }

  private draw(item: ThreadItem): HTMLElement {
    switch (item.type) {
      case "user_message":
        return this.drawUser(item as UserMessageItem);
      case "assistant_message":
        return this.drawAssistant(item as AssistantMessageItem);
      default:
        return this.drawWidget(item as WidgetItem);
    }
  }

  private drawUser(item: UserMessageItem): HTMLElement {
    const text = item.content.map((part) => part.text).join("");
    const attachments = (item.attachments ?? []).map((attachment) => this.drawAttachment(attachment));
    return h(
      "article",
      { className: "message user", "data-item-id": item.id, "aria-label": "You said" },
      attachments.length ? h("div", { className: "message-attachments" }, ...attachments) : null,
      text ? h("div", { className: "bubble" }, text) : null,
    );
  }

  private drawAttachment(attachment: Attachment): HTMLElement {
    if (attachment.type === "image") {
      const img = h("img", { alt: attachment.name, className: "thumb", loading: "lazy" });
      void this.handlers.previewUrl(attachment).then((url) => {
        if (url) img.src = url;
      });
      return img;
    }
    return h("span", { className: "file-chip", title: attachment.name }, icon("paperclip"), attachment.name);
  }

  private drawAssistant(item: AssistantMessageItem): HTMLElement {
    const body = h("div", { className: "markdown" });
    setMarkdown(body, textOf(item));
    const copy = h("button", { type: "button", className: "ghost", "aria-label": "Copy message", title: "Copy" }, icon("copy"));
    copy.addEventListener("click", () => void copyText(textOf(item), copy));
    const up = this.feedbackButton(item, "positive");
    const down = this.feedbackButton(item, "negative");
    return h(
      "article",
      { className: "message assistant", "data-item-id": item.id, "aria-label": "Assistant said" },
      body,
      h("div", { className: "message-actions" }, copy, up, down),
    );
  }

  private feedbackButton(item: ThreadItem, kind: "positive" | "negative"): HTMLButtonElement {
    const label = kind === "positive" ? "Good answer" : "Bad answer";
    const button = h("button", { type: "button", className: "ghost", "aria-label": label, title: label, "aria-pressed": "false" }, icon(kind === "positive" ? "up" : "down"));
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await this.handlers.onFeedback(item, kind);
        button.setAttribute("aria-pressed", "true");
        button.parentElement?.querySelectorAll("button[aria-pressed]").forEach((b) => ((b as HTMLButtonElement).disabled = true));
      } catch {
        button.disabled = false;
      }
    });
    return button;
  }

  private drawWidget(item: WidgetItem): HTMLElement {
    const widget = renderWidget(item.widget, {
      onAction: (action, formData) => this.handlers.onAction(item, action, formData),
    });
    return h("article", { className: "message widget", "data-item-id": item.id, "aria-label": "Widget" }, widget);
  }

  private nearEnd(): boolean {
    const scroller = this.scroller;
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  }

  private scrollToEnd(follow: boolean): void {
    if (follow) this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}

export function textOf(item: AssistantMessageItem): string {
  return item.content.map((part) => part.text).join("\n\n");
}

async function copyText(text: string, button: HTMLButtonElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    button.title = "Copied";
    button.classList.add("done");
  } catch {
    button.title = "Copy failed";
  }
}
