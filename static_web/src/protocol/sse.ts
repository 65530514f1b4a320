// A Server-Sent Events parser for streams read with fetch(): EventSource cannot POST a
// JSON body, so ChatKit clients parse the stream themselves. Follows the WHATWG
// "event stream interpretation" rules: any line ending (\n, \r\n, \r), several `data:`
// lines joined with "\n", comments ignored, `id` and `retry` remembered for reconnects.

export interface SseMessage {
  event: string;
  data: string;
  id: string;
}

export class SseParser {
  /** The last `id:` seen; survives `reset()` so a reconnect can resume from it. */
  lastEventId = "";
  /** Milliseconds the server asked clients to wait before reconnecting, if it did. */
  retry: number | null = null;

  private buffer = "";
  private pendingCr = false;
  private data: string[] = [];
  private eventType = "";
  private hasData = false;

  /** Feed decoded text; returns the messages completed by it. */
  feed(chunk: string): SseMessage[] {
    const out: SseMessage[] = [];
    let text = chunk;
    // A "\r\n" split across two chunks: the "\r" already ended the line.
    if (this.pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.pendingCr = false;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch !== "\n" && ch !== "\r") continue;
      this.buffer += text.slice(start, i);
      this.line(this.buffer, out);
      this.buffer = "";
      if (ch === "\r") {
        if (i + 1 < text.length) {
          if (text[i + 1] === "\n") i++;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
    }
    this.buffer += text.slice(start);
    return out;
  }

  /** The stream ended: an unterminated message is dropped, as the spec says. */
  end(): SseMessage[] {
    this.buffer = "";
    this.clearMessage();
    return [];
  }

  /** Forget partial state before reading a new connection (keeps lastEventId/retry). */
  reset(): void {
    this.buffer = "";
    this.pendingCr = false;
    this.clearMessage();
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === "") {
      if (this.hasData) {
        out.push({ event: this.eventType || "message", data: this.data.join("\n"), id: this.lastEventId });
      }
      this.clearMessage();
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        this.hasData = true;
        break;
      case "event":
        this.eventType = value;
        break;
      case "id":
        if (!value.includes("\0")) this.lastEventId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
    }
  }

  private clearMessage(): void {
    this.data = [];
    this.eventType = "";
    this.hasData = false;
  }
}

/** Read an SSE body incrementally; yields each message as soon as it is complete. */
export async function* readSse(body: ReadableStream<Uint8Array>, parser = new SseParser()): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  // stream: true keeps a multi-byte character split across chunks intact.
  const decoder = new TextDecoder("utf-8");
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      yield* parser.feed(decoder.decode(value, { stream: true }));
    }
    yield* parser.feed(decoder.decode());
    parser.end();
  } finally {
    reader.releaseLock();
  }
}
