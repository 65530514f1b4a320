// The ChatKit protocol over HTTP: one POST per request to /api/chatkit/<use case>.
// Non-streaming requests answer JSON; streaming ones answer SSE, read incrementally.

import { ApiError, StreamInterrupted, errorFromResponse } from "./errors";
import { readSse, SseParser } from "./sse";
import type {
  ActionPayload,
  Attachment,
  Page,
  Thread,
  ThreadItem,
  ThreadMetadata,
  ThreadStreamEvent,
  UserMessageInput,
} from "./types";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** Absolute or same-origin URL of the ChatKit endpoint, e.g. "/api/chatkit/todo". */
  url: string;
  fetch: FetchLike;
  /** Extra headers on every call (the user's time zone, ...). */
  headers?: Record<string, string>;
}

const END_EVENTS = new Set(["error"]);

export class ChatKitClient {
  constructor(private readonly options: ClientOptions) {}

  get url(): string {
    return this.options.url;
  }

  listThreads(params: { limit?: number; after?: string | null; order?: "asc" | "desc" } = {}): Promise<Page<ThreadMetadata>> {
    return this.request("threads.list", { limit: 20, order: "desc", ...params });
  }

  getThread(threadId: string): Promise<Thread> {
    return this.request("threads.get_by_id", { thread_id: threadId });
  }

  listItems(threadId: string, params: { limit?: number; after?: string | null; order?: "asc" | "desc" } = {}): Promise<Page<ThreadItem>> {
    return this.request("items.list", { thread_id: threadId, limit: 30, order: "desc", ...params });
  }

  renameThread(threadId: string, title: string): Promise<ThreadMetadata> {
    return this.request("threads.update", { thread_id: threadId, title });
  }

  async deleteThread(threadId: string): Promise<void> {
    await this.request("threads.delete", { thread_id: threadId });
  }

  createAttachment(file: { name: string; size: number; type: string }): Promise<Attachment> {
    return this.request("attachments.create", {
      name: file.name,
      size: file.size,
      mime_type: file.type || "application/octet-stream",
    });
  }

  async deleteAttachment(attachmentId: string): Promise<void> {
    await this.request("attachments.delete", { attachment_id: attachmentId });
  }

  async feedback(threadId: string, itemIds: string[], kind: "positive" | "negative"): Promise<void> {
    await this.request("items.feedback", { thread_id: threadId, item_ids: itemIds, kind });
  }

  /**
   * Our extension: ask the turn streaming on this thread to stop, wherever it runs.
   * Aborting the fetch alone is not enough when a proxy keeps the upstream open.
   */
  async stopTurn(threadId: string): Promise<void> {
    await this.request("threads.stop_turn", { thread_id: threadId });
  }

  createThread(input: UserMessageInput, signal?: AbortSignal): AsyncGenerator<ThreadStreamEvent> {
    return this.stream("threads.create", { input }, signal);
  }

  addUserMessage(threadId: string, input: UserMessageInput, signal?: AbortSignal): AsyncGenerator<ThreadStreamEvent> {
    return this.stream("threads.add_user_message", { thread_id: threadId, input }, signal);
  }

  retryAfterItem(threadId: string, itemId: string, signal?: AbortSignal): AsyncGenerator<ThreadStreamEvent> {
    return this.stream("threads.retry_after_item", { thread_id: threadId, item_id: itemId }, signal);
  }

  customAction(threadId: string, itemId: string | null, action: ActionPayload, signal?: AbortSignal): AsyncGenerator<ThreadStreamEvent> {
    return this.stream("threads.custom_action", { thread_id: threadId, item_id: itemId, action }, signal);
  }

  private async post(type: string, params: unknown, accept: string, signal?: AbortSignal): Promise<Response> {
    let response: Response;
    try {
      response = await this.options.fetch(this.options.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: accept, ...this.options.headers },
        body: JSON.stringify({ type, params }),
        signal,
      });
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new ApiError("Could not reach the server. Check your connection and try again.", 0, "network", true);
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }

  private async request<T>(type: string, params: unknown): Promise<T> {
    const response = await this.post(type, params, "application/json");
    const text = await response.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  /**
   * Yields each event as it arrives. A stream that ends without the server finishing
   * (no error event, connection cut) throws StreamInterrupted so the caller can resync
   * from the store; ChatKit streams cannot resume, but everything the server stored
   * is still there.
   */
  async *stream(type: string, params: unknown, signal?: AbortSignal): AsyncGenerator<ThreadStreamEvent> {
    const response = await this.post(type, params, "text/event-stream", signal);
    if (!response.body) throw new StreamInterrupted();
    let ended = false;
    try {
      for await (const message of readSse(response.body, new SseParser())) {
        let event: ThreadStreamEvent;
        try {
          event = JSON.parse(message.data) as ThreadStreamEvent;
        } catch {
          continue;
        }
        if (END_EVENTS.has(event.type)) ended = true;
        yield event;
      }
    } catch (error) {
      if (isAbort(error) || signal?.aborted) throw abortError();
      if (!ended) throw new StreamInterrupted();
      return;
    }
    // The server closes the stream when the turn is done; a clean close is the end.
  }
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException ? error.name === "AbortError" : (error as Error)?.name === "AbortError";
}

function abortError(): DOMException {
  return new DOMException("The request was cancelled.", "AbortError");
}
