import { describe, expect, it } from "vitest";
import { ChatKitClient, type FetchLike } from "../src/protocol/client";
import { ApiError, StreamInterrupted } from "../src/protocol/errors";
import type { ThreadStreamEvent } from "../src/protocol/types";

interface Call {
  url: string;
  body: { type: string; params: Record<string, unknown> };
  headers: Headers;
}

function recorder(respond: (call: Call) => Response | Promise<Response>): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init = {}) => {
    const call = { url, body: JSON.parse(String(init.body)), headers: new Headers(init.headers) };
    calls.push(call);
    if (init.signal?.aborted) throw new DOMException("aborted", "AbortError");
    return respond(call);
  };
  return { fetch, calls };
}

function sse(chunks: string[], { fail = false } = {}): Response {
  const encoder = new TextEncoder();
  const queue = [...chunks];
  // Pull-based, so a failure comes after the chunks were read (as on a real network).
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = queue.shift();
      if (chunk !== undefined) controller.enqueue(encoder.encode(chunk));
      else if (fail) controller.error(new TypeError("network error"));
      else controller.close();
    },
  });
  return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
}

const event = (e: object) => `data: ${JSON.stringify(e)}\n\n`;

async function collect(stream: AsyncIterable<ThreadStreamEvent>): Promise<ThreadStreamEvent[]> {
  const out: ThreadStreamEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

describe("ChatKitClient", () => {
  it("sends each request type with its params to the use case's endpoint", async () => {
    const { fetch, calls } = recorder(() => Response.json({ data: [], has_more: false }));
    const client = new ChatKitClient({ url: "/api/chatkit/todo", fetch, headers: { "X-User-Timezone": "Europe/Paris" } });
    await client.listThreads({ after: "thr_1" });
    await client.listItems("thr_1", { limit: 5 });
    await client.renameThread("thr_1", "Groceries");
    await client.deleteThread("thr_1");
    await client.feedback("thr_1", ["msg_1"], "positive");
    await client.createAttachment({ name: "a.png", size: 3, type: "image/png" });
    await client.deleteAttachment("atc_1");
    expect(calls.map((c) => c.url)).toEqual(Array(7).fill("/api/chatkit/todo"));
    expect(calls.map((c) => c.body)).toEqual([
      { type: "threads.list", params: { limit: 20, order: "desc", after: "thr_1" } },
      { type: "items.list", params: { thread_id: "thr_1", limit: 5, order: "desc" } },
      { type: "threads.update", params: { thread_id: "thr_1", title: "Groceries" } },
      { type: "threads.delete", params: { thread_id: "thr_1" } },
      { type: "items.feedback", params: { thread_id: "thr_1", item_ids: ["msg_1"], kind: "positive" } },
      { type: "attachments.create", params: { name: "a.png", size: 3, mime_type: "image/png" } },
      { type: "attachments.delete", params: { attachment_id: "atc_1" } },
    ]);
    expect(calls[0].headers.get("X-User-Timezone")).toBe("Europe/Paris");
    expect(calls[0].headers.get("Content-Type")).toBe("application/json");
  });

  it("streams events one by one as they arrive", async () => {
    const { fetch, calls } = recorder(() =>
      sse([event({ type: "thread.created", thread: { id: "thr_1" } }).slice(0, 10), event({ type: "thread.created", thread: { id: "thr_1" } }).slice(10), event({ type: "progress_update", text: "Working" })]),
    );
    const client = new ChatKitClient({ url: "/api/chatkit", fetch });
    const input = { content: [{ type: "input_text" as const, text: "hi" }], attachments: [], inference_options: { model: "m" } };
    const events = await collect(client.createThread(input));
    expect(events.map((e) => e.type)).toEqual(["thread.created", "progress_update"]);
    expect(calls[0].body).toEqual({ type: "threads.create", params: { input } });
    expect(calls[0].headers.get("Accept")).toBe("text/event-stream");
  });

  it("names the streaming requests the way the server expects", async () => {
    const { fetch, calls } = recorder(() => sse([]));
    const client = new ChatKitClient({ url: "/c", fetch });
    const input = { content: [], attachments: ["atc_1"], inference_options: {} };
    await collect(client.addUserMessage("thr_1", input));
    await collect(client.retryAfterItem("thr_1", "msg_1"));
    await collect(client.customAction("thr_1", "wid_1", { type: "todo.add", payload: { title: "x" } }));
    expect(calls.map((c) => c.body)).toEqual([
      { type: "threads.add_user_message", params: { thread_id: "thr_1", input } },
      { type: "threads.retry_after_item", params: { thread_id: "thr_1", item_id: "msg_1" } },
      { type: "threads.custom_action", params: { thread_id: "thr_1", item_id: "wid_1", action: { type: "todo.add", payload: { title: "x" } } } },
    ]);
  });

  it("turns an error response into an ApiError with the server's message", async () => {
    const { fetch } = recorder(() => Response.json({ error: { code: "not_found", message: "Thread not found" } }, { status: 404 }));
    const client = new ChatKitClient({ url: "/c", fetch });
    const error = await client.getThread("nope").catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, code: "not_found", message: "Thread not found", retryable: false });
  });

  it("never shows a non-JSON error body", async () => {
    const { fetch } = recorder(() => new Response("<html>Traceback (most recent call last)</html>", { status: 502 }));
    const error = await new ChatKitClient({ url: "/c", fetch }).getThread("x").catch((e) => e);
    expect(error.message).toBe("The server answered 502.");
    expect(error.retryable).toBe(true);
  });

  it("reports an unreachable server as a retryable network error", async () => {
    const fetch: FetchLike = async () => {
      throw new TypeError("Failed to fetch");
    };
    const error = await new ChatKitClient({ url: "/c", fetch }).listThreads().catch((e) => e);
    expect(error).toMatchObject({ code: "network", retryable: true });
  });

  it("reports a stream cut before the end as StreamInterrupted, after the events it got", async () => {
    const { fetch } = recorder(() => sse([event({ type: "progress_update", text: "a" })], { fail: true }));
    const seen: string[] = [];
    const error = await (async () => {
      for await (const e of new ChatKitClient({ url: "/c", fetch }).retryAfterItem("t", "i")) seen.push(e.type);
    })().catch((e) => e);
    expect(seen).toEqual(["progress_update"]);
    expect(error).toBeInstanceOf(StreamInterrupted);
  });

  it("stops with an AbortError when the caller aborts", async () => {
    const { fetch } = recorder(() => sse([]));
    const controller = new AbortController();
    controller.abort();
    const error = await collect(new ChatKitClient({ url: "/c", fetch }).retryAfterItem("t", "i", controller.signal)).catch((e) => e);
    expect(error.name).toBe("AbortError");
  });
});

describe("stopTurn", () => {
  it("asks the server to stop the thread's running turn", async () => {
    const { fetch, calls } = recorder(() => Response.json({ stopping: true }));
    await new ChatKitClient({ url: "/c", fetch }).stopTurn("thr_1");
    expect(calls[0].body).toEqual({ type: "threads.stop_turn", params: { thread_id: "thr_1" } });
  });
});
