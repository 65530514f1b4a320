// The self-hosted ChatKit client: wires the sidebar, conversation and composer to the
// protocol client, and applies each stream event as it arrives.

import type { Session } from "./boot/auth";
import { ChatKitClient, isAbort } from "./protocol/client";
import { ApiError, StreamInterrupted, describe } from "./protocol/errors";
import type { AppConfig, Attachment, ThreadMetadata, ThreadStreamEvent, UseCaseInfo, UserMessageInput, WidgetItem } from "./protocol/types";
import { ThreadItems } from "./state/thread-items";
import { Composer } from "./ui/composer";
import { h } from "./ui/dom";
import { MessageList } from "./ui/messages";
import { Sidebar } from "./ui/sidebar";
import { upload } from "./ui/upload";
import type { ActionConfig } from "./widgets/render";

export interface AppOptions {
  root: HTMLElement;
  config: AppConfig;
  session: Session;
  apiBaseUrl: string;
  notice?: string;
}

type Starter = (signal: AbortSignal) => AsyncGenerator<ThreadStreamEvent>;

const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

export class ChatApp {
  private useCase: UseCaseInfo;
  private client!: ChatKitClient;
  private threadId: string | null = null;
  private readonly items = new ThreadItems();
  private olderAfter: string | null = null;
  private abort: AbortController | null = null;
  private readonly sidebar: Sidebar;
  private readonly messages: MessageList;
  private readonly composer: Composer;
  private readonly title: HTMLElement;
  private readonly olderButton: HTMLButtonElement;
  private readonly apiOrigin: string;

  constructor(private readonly options: AppOptions) {
    const { config, root } = options;
    this.apiOrigin = new URL(options.apiBaseUrl || location.origin, location.href).origin;
    const params = new URLSearchParams(location.search);
    this.useCase = config.use_cases.find((u) => u.name === params.get("use_case")) ?? config.use_cases.find((u) => u.name === config.default_use_case) ?? config.use_cases[0];

    const useCaseSelect = h("select", { "aria-label": "Use case", className: "use-case" });
    for (const u of config.use_cases) useCaseSelect.append(new Option(u.title, u.name, false, u.name === this.useCase.name));
    useCaseSelect.addEventListener("change", () => this.switchUseCase(useCaseSelect.value));
    const newChat = h("button", { type: "button", className: "new-chat", onclick: () => this.newThread() }, "+ New chat");
    const threadsRoot = h("nav", { className: "threads", "aria-label": "Conversation history" });
    const user = options.session.user;
    const account = user
      ? h("div", { className: "account" }, h("span", { className: "muted small" }, user.name), h("button", { type: "button", className: "ghost small", onclick: () => options.session.signOut() }, "Sign out"))
      : null;
    this.title = h("h1", { className: "thread-title" }, this.useCase.title);
    this.olderButton = h("button", { type: "button", className: "ghost more", hidden: true, onclick: () => void this.loadOlder() }, "Show earlier messages");
    const conversation = h("div", { className: "conversation" });
    const scroller = h("div", { className: "scroller" }, this.olderButton, conversation);
    const composerRoot = h("div", { className: "composer-wrap" });
    const noticeBar = options.notice ? h("p", { className: "page-notice", role: "status" }, options.notice) : null;

    root.replaceChildren(
      h("aside", { className: "sidebar" }, h("div", { className: "brand" }, "ChatKit on Azure"), useCaseSelect, newChat, threadsRoot, account),
      h("main", { className: "chat" }, h("header", { className: "chat-header" }, this.title), noticeBar, scroller, composerRoot),
    );

    this.sidebar = new Sidebar(threadsRoot, {
      open: (id) => void this.openThread(id),
      rename: async (id, title) => {
        await this.client.renameThread(id, title);
        if (id === this.threadId) this.title.textContent = title;
      },
      remove: async (id) => {
        await this.client.deleteThread(id);
        if (id === this.threadId) this.newThread();
      },
      loadMore: (after) => this.client.listThreads({ after }),
    });
    this.messages = new MessageList(conversation, scroller, {
      onAction: (item, action, formData) => this.runAction(item, action, formData),
      onFeedback: (item, kind) => this.client.feedback(item.thread_id, [item.id], kind),
      onPrompt: (prompt) => this.send(prompt, [], null),
      previewUrl: (attachment) => this.previewUrl(attachment),
    });
    this.composer = new Composer(composerRoot, config, {
      send: (text, attachments, model) => this.send(text, attachments, model),
      stop: () => this.stop(),
      upload: (file, onProgress) => this.uploadFile(file, onProgress),
      discard: (attachment) => void this.client.deleteAttachment(attachment.id).catch(() => {}),
    });
    this.connect();
    const threadParam = params.get("thread");
    if (threadParam) void this.openThread(threadParam);
    else this.newThread();
    void this.sidebar.reload();
  }

  private connect(): void {
    this.client = new ChatKitClient({
      url: `${this.options.apiBaseUrl}${this.options.config.chatkit.api_path}/${encodeURIComponent(this.useCase.name)}`,
      fetch: this.options.session.fetch,
      headers: { "X-User-Timezone": TIME_ZONE },
    });
    this.composer.setPlaceholder(`Message ${this.useCase.title}`);
  }

  private switchUseCase(name: string): void {
    const next = this.options.config.use_cases.find((u) => u.name === name);
    if (!next) return;
    this.abort?.abort();
    this.useCase = next;
    this.connect();
    this.newThread();
    void this.sidebar.reload();
  }

  newThread(): void {
    this.abort?.abort();
    this.threadId = null;
    this.items.reset([]);
    this.olderButton.hidden = true;
    this.title.textContent = this.useCase.title;
    this.sidebar.setActive(null);
    this.messages.showStart(this.useCase);
    this.setUrl();
    this.composer.focus();
  }

  async openThread(threadId: string): Promise<void> {
    this.abort?.abort();
    try {
      const thread = await this.client.getThread(threadId);
      this.threadId = thread.id;
      this.title.textContent = thread.title || "New conversation";
      this.items.reset(thread.items.data);
      this.olderAfter = thread.items.after ?? null;
      this.olderButton.hidden = !thread.items.has_more;
      this.messages.render(this.items.all());
      this.sidebar.setActive(thread.id);
      this.setUrl();
    } catch (error) {
      this.newThread();
      this.messages.showError(error instanceof ApiError && error.status === 404 ? "That conversation no longer exists." : describe(error));
    }
  }

  private async loadOlder(): Promise<void> {
    if (!this.threadId) return;
    this.olderButton.disabled = true;
    try {
      const page = await this.client.listItems(this.threadId, { after: this.olderAfter, order: "desc" });
      this.items.prepend(page.data);
      this.olderAfter = page.after ?? page.data.at(-1)?.id ?? null;
      this.olderButton.hidden = !page.has_more;
      this.messages.render(this.items.all());
    } catch (error) {
      this.messages.showError(describe(error));
    } finally {
      this.olderButton.disabled = false;
    }
  }

  send(text: string, attachments: Attachment[], model: string | null): void {
    const input: UserMessageInput = {
      content: text ? [{ type: "input_text", text }] : [],
      attachments: attachments.map((a) => a.id),
      inference_options: model ? { model } : {},
    };
    const threadId = this.threadId;
    void this.run((signal) => (threadId ? this.client.addUserMessage(threadId, input, signal) : this.client.createThread(input, signal)));
  }

  private async runAction(item: WidgetItem, action: ActionConfig, formData: Record<string, unknown> | undefined): Promise<void> {
    if (action.handler === "client") return; // No client-side handlers are registered by this app.
    if (!this.threadId) return;
    const payload = formData ? { ...(isRecord(action.payload) ? action.payload : {}), ...formData } : action.payload;
    const threadId = this.threadId;
    await this.run((signal) => this.client.customAction(threadId, item.id, { type: action.type, payload }, signal));
  }

  private stop(): void {
    const threadId = this.threadId;
    this.abort?.abort();
    if (threadId) void this.client.stopTurn(threadId).catch(() => {});
  }

  private retry(): void {
    const threadId = this.threadId;
    const itemId = this.items.lastUserMessageId();
    if (!threadId || !itemId) return;
    void this.run((signal) => this.client.retryAfterItem(threadId, itemId, signal));
  }

  /** One streamed request at a time: a new one stops the previous. */
  private async run(start: Starter): Promise<void> {
    this.abort?.abort();
    const controller = new AbortController();
    this.abort = controller;
    const streaming = new Set<string>();
    this.composer.setBusy(true);
    this.messages.clearBanners();
    this.messages.setProgress("Thinking…");
    try {
      for await (const event of start(controller.signal)) this.apply(event, streaming);
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted) {
        this.messages.setProgress(null);
      } else if (error instanceof StreamInterrupted) {
        this.messages.showError(error.message, () => this.retry());
        if (this.threadId) void this.resync(this.threadId);
      } else {
        const retryable = error instanceof ApiError && error.retryable && Boolean(this.threadId);
        this.messages.showError(describe(error), retryable ? () => this.retry() : undefined);
      }
    } finally {
      for (const id of streaming) {
        const item = this.items.get(id);
        if (item) this.messages.finishStreaming(item);
      }
      if (this.abort === controller) {
        this.abort = null;
        this.composer.setBusy(false);
        this.messages.setProgress(null);
      }
    }
  }

  private apply(event: ThreadStreamEvent, streaming: Set<string>): void {
    switch (event.type) {
      case "thread.created":
        this.threadId = event.thread.id;
        this.title.textContent = event.thread.title || "New conversation";
        this.sidebar.upsert(metadata(event.thread), true);
        this.sidebar.setActive(event.thread.id);
        this.setUrl();
        return;
      case "thread.updated":
        if (event.thread.id === this.threadId) this.title.textContent = event.thread.title || "New conversation";
        this.sidebar.upsert(metadata(event.thread));
        return;
      case "progress_update":
        this.messages.setProgress(event.text);
        return;
      case "notice":
        this.messages.showNotice(event.level, event.message, event.title);
        return;
      case "error":
        this.messages.setProgress(null);
        this.messages.showError(event.message || "Something went wrong.", event.allow_retry ? () => this.retry() : undefined);
        return;
      case "stream_options":
      case "client_effect":
        return;
    }
    const change = this.items.apply(event);
    if (change.kind === "remove") this.messages.remove(change.itemId);
    if (change.kind !== "upsert") return;
    const item = change.item;
    if (event.type === "thread.item.added" && item.type === "assistant_message") {
      streaming.add(item.id);
      this.messages.setProgress(null);
    }
    if (event.type === "thread.item.done" || event.type === "thread.item.replaced") {
      streaming.delete(item.id);
      this.messages.finishStreaming(item);
    } else {
      this.messages.upsert(item, streaming.has(item.id));
    }
    if (item.type === "user_message") this.sidebar.setActive(this.threadId);
  }

  /** After a dropped stream, show what the server actually stored. */
  private async resync(threadId: string): Promise<void> {
    try {
      const thread = await this.client.getThread(threadId);
      if (this.threadId !== threadId) return;
      this.items.reset(thread.items.data);
      this.messages.render(this.items.all());
    } catch {
      // The error banner already offers Retry.
    }
  }

  private async uploadFile(file: File, onProgress: (fraction: number) => void): Promise<Attachment> {
    const attachment = await this.client.createAttachment(file);
    if (attachment.upload_descriptor) {
      await upload({
        file,
        descriptor: attachment.upload_descriptor,
        apiOrigin: this.apiOrigin,
        apiHeaders: await this.options.session.authHeaders(),
        onProgress,
      });
    }
    return attachment;
  }

  private readonly previews = new Map<string, string>();

  /** Previews on our API need the user's credentials; a bearer token can't ride on <img src>. */
  private async previewUrl(attachment: Attachment): Promise<string | null> {
    const url = attachment.preview_url;
    if (!url) return null;
    const target = new URL(url, location.href);
    if (this.options.session.mode !== "entra" || target.origin !== this.apiOrigin) return url;
    const cached = this.previews.get(attachment.id);
    if (cached) return cached;
    const response = await this.options.session.fetch(target.href);
    if (!response.ok) return null;
    const objectUrl = URL.createObjectURL(await response.blob());
    this.previews.set(attachment.id, objectUrl);
    return objectUrl;
  }

  private setUrl(): void {
    const params = new URLSearchParams(location.search);
    params.set("use_case", this.useCase.name);
    if (this.threadId) params.set("thread", this.threadId);
    else params.delete("thread");
    params.delete("fallback");
    history.replaceState(null, "", `${location.pathname}?${params}`);
  }
}

function metadata(thread: ThreadMetadata): ThreadMetadata {
  return { id: thread.id, title: thread.title, created_at: thread.created_at, status: thread.status };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return Boolean(value) && typeof value === "object" && !Array.isArray(value);
}
