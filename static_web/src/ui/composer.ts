// Message input: text, attachments (pick, drop or paste; uploaded right away with a
// progress bar), the model picker, and Send that turns into Stop while answering.

import type { AppConfig, Attachment, ModelOption } from "../protocol/types";
import { h, icon } from "./dom";

export interface PendingAttachment {
  localId: string;
  file: File;
  attachment?: Attachment;
  progress: number;
  error?: string;
  /** Resolves when the upload finished (or failed). */
  done: Promise<void>;
}

export interface ComposerHandlers {
  send(text: string, attachments: Attachment[], model: string | null): void;
  stop(): void;
  /** Creates and uploads the attachment; reports progress; throws a user-facing Error. */
  upload(file: File, onProgress: (fraction: number) => void): Promise<Attachment>;
  discard(attachment: Attachment): void;
}

export class Composer {
  readonly form: HTMLFormElement;
  private readonly input: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly fileInput: HTMLInputElement;
  private readonly tray: HTMLElement;
  private readonly modelSelect: HTMLSelectElement;
  private readonly hint: HTMLElement;
  private attachments: PendingAttachment[] = [];
  private busy = false;
  private counter = 0;

  constructor(
    root: HTMLElement,
    private readonly config: AppConfig,
    private readonly handlers: ComposerHandlers,
  ) {
    const limits = config.attachments;
    this.input = h("textarea", { rows: 1, placeholder: "Message", "aria-label": "Message", name: "message" });
    this.fileInput = h("input", { type: "file", multiple: true, hidden: true, accept: limits.accept.join(","), "data-testid": "file-input" });
    const attach = h("button", { type: "button", className: "ghost", "aria-label": "Attach files", title: "Attach files", disabled: !limits.enabled }, icon("paperclip"));
    this.sendButton = h("button", { type: "submit", className: "send", "aria-label": "Send" }, icon("send"));
    this.tray = h("div", { className: "tray", "aria-label": "Attachments" });
    this.modelSelect = h("select", { "aria-label": "Model", className: "model-picker" });
    this.hint = h("div", { className: "composer-hint", role: "status" });
    for (const model of config.models) this.modelSelect.append(modelOption(model, config.default_model));
    this.modelSelect.hidden = config.models.length < 2;

    this.form = h(
      "form",
      { className: "composer", "aria-label": "Send a message" },
      this.tray,
      h("div", { className: "composer-row" }, attach, this.fileInput, this.input, this.sendButton),
      h("div", { className: "composer-meta" }, this.modelSelect, this.hint),
    );
    root.replaceChildren(this.form);

    attach.addEventListener("click", () => this.fileInput.click());
    this.fileInput.addEventListener("change", () => {
      this.addFiles([...(this.fileInput.files ?? [])]);
      this.fileInput.value = "";
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.busy) this.handlers.stop();
      else void this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (!this.busy) void this.submit();
      }
    });
    this.input.addEventListener("input", () => this.autosize());
    this.input.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (files.length) {
        event.preventDefault();
        this.addFiles(files);
      }
    });
    root.addEventListener("dragover", (event) => {
      if (!limits.enabled) return;
      event.preventDefault();
      root.classList.add("dragging");
    });
    root.addEventListener("dragleave", () => root.classList.remove("dragging"));
    root.addEventListener("drop", (event) => {
      event.preventDefault();
      root.classList.remove("dragging");
      if (limits.enabled) this.addFiles([...(event.dataTransfer?.files ?? [])]);
    });
  }

  focus(): void {
    this.input.focus();
  }

  setPlaceholder(text: string): void {
    this.input.placeholder = text;
  }

  setText(text: string): void {
    this.input.value = text;
    this.autosize();
  }

  /** While a turn streams, Send becomes Stop. */
  setBusy(busy: boolean): void {
    this.busy = busy;
    this.sendButton.replaceChildren(icon(busy ? "stop" : "send"));
    this.sendButton.setAttribute("aria-label", busy ? "Stop" : "Send");
    this.sendButton.classList.toggle("stop", busy);
  }

  addFiles(files: File[]): void {
    const limits = this.config.attachments;
    for (const file of files) {
      if (this.attachments.length >= limits.max_per_message) {
        this.say(`At most ${limits.max_per_message} attachments per message.`);
        break;
      }
      if (file.size > limits.max_bytes) {
        this.say(`${file.name} is larger than ${formatBytes(limits.max_bytes)}.`);
        continue;
      }
      if (limits.accept.length && !accepts(limits.accept, file)) {
        this.say(`${file.name}: this file type is not accepted.`);
        continue;
      }
      this.startUpload(file);
    }
  }

  private startUpload(file: File): void {
    const pending: PendingAttachment = { localId: `local-${++this.counter}`, file, progress: 0, done: Promise.resolve() };
    pending.done = this.handlers
      .upload(file, (fraction) => {
        pending.progress = fraction;
        this.drawTray();
      })
      .then((attachment) => {
        pending.attachment = attachment;
        pending.progress = 1;
      })
      .catch((error: Error) => {
        pending.error = error.message || "Upload failed.";
      })
      .finally(() => this.drawTray());
    this.attachments.push(pending);
    this.drawTray();
  }

  private remove(pending: PendingAttachment): void {
    this.attachments = this.attachments.filter((a) => a !== pending);
    if (pending.attachment) this.handlers.discard(pending.attachment);
    this.drawTray();
  }

  private drawTray(): void {
    this.tray.replaceChildren(
      ...this.attachments.map((pending) => {
        const preview = pending.file.type.startsWith("image/")
          ? h("img", { className: "thumb", alt: "", src: URL.createObjectURL(pending.file) })
          : icon("paperclip");
        const status = pending.error
          ? h("span", { className: "error-text" }, pending.error)
          : h("progress", { max: 1, value: pending.progress, "aria-label": `Uploading ${pending.file.name}` });
        return h(
          "div",
          { className: `chip${pending.error ? " failed" : ""}`, "data-uploaded": String(Boolean(pending.attachment)) },
          preview,
          h("span", { className: "chip-name" }, pending.file.name),
          pending.attachment ? null : status,
          h("button", { type: "button", className: "ghost", "aria-label": `Remove ${pending.file.name}`, onclick: () => this.remove(pending) }, icon("close")),
        );
      }),
    );
  }

  private async submit(): Promise<void> {
    const text = this.input.value.trim();
    if (!text && this.attachments.length === 0) return;
    await Promise.all(this.attachments.map((a) => a.done));
    if (this.attachments.some((a) => a.error)) {
      this.say("Remove the attachments that failed before sending.");
      return;
    }
    const attachments = this.attachments.map((a) => a.attachment!).filter(Boolean);
    this.attachments = [];
    this.drawTray();
    this.setText("");
    this.say("");
    this.handlers.send(text, attachments, this.modelSelect.hidden ? null : this.modelSelect.value || null);
  }

  private say(message: string): void {
    this.hint.textContent = message;
  }

  private autosize(): void {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 200)}px`;
  }
}

function modelOption(model: ModelOption, defaultId: string | null): HTMLOptionElement {
  const option = new Option(model.available ? model.label : `${model.label} (not configured)`, model.id, false, model.id === defaultId);
  option.disabled = !model.available;
  return option;
}

export function accepts(accept: string[], file: { name: string; type: string }): boolean {
  // Browsers leave the type empty for some files (.md): let the server decide.
  if (!file.type) return true;
  const name = file.name.toLowerCase();
  return accept.some((rule) => {
    const r = rule.trim().toLowerCase();
    if (r.startsWith(".")) return name.endsWith(r);
    if (r.endsWith("/*")) return file.type.startsWith(r.slice(0, -1));
    return file.type === r;
  });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round(bytes / (1024 * 1024))} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}
