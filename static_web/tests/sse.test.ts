import { describe, expect, it } from "vitest";
import { readSse, SseParser, type SseMessage } from "../src/protocol/sse";

const STREAM = 'data: {"type":"a"}\n\nevent: custom\ndata: line one\ndata: line two\nid: 7\n\n: a comment\n\ndata: {"type":"é✓"}\r\n\r\n';
const EXPECTED: SseMessage[] = [
  { event: "message", data: '{"type":"a"}', id: "" },
  { event: "custom", data: "line one\nline two", id: "7" },
  { event: "message", data: '{"type":"é✓"}', id: "7" },
];

function feedInPieces(text: string, cuts: number[]): SseMessage[] {
  const parser = new SseParser();
  const out: SseMessage[] = [];
  let start = 0;
  for (const cut of [...cuts, text.length]) {
    out.push(...parser.feed(text.slice(start, cut)));
    start = cut;
  }
  return out;
}

describe("SseParser", () => {
  it("parses a whole stream", () => {
    expect(feedInPieces(STREAM, [])).toEqual(EXPECTED);
  });

  it("gives the same result whatever the chunk boundaries", () => {
    for (let cut = 1; cut < STREAM.length; cut++) {
      expect(feedInPieces(STREAM, [cut])).toEqual(EXPECTED);
    }
    // Every character in its own chunk, including the \r|\n split.
    expect(feedInPieces(STREAM, [...STREAM].map((_, i) => i + 1).slice(0, -1))).toEqual(EXPECTED);
  });

  it("accepts \\r, \\n and \\r\\n line endings alike", () => {
    const crOnly = "data: x\r\rdata: y\n\ndata: z\r\n\r\n";
    expect(feedInPieces(crOnly, []).map((m) => m.data)).toEqual(["x", "y", "z"]);
  });

  it("drops an unterminated message at the end and ignores blank-only blocks", () => {
    const parser = new SseParser();
    expect(parser.feed("\n\ndata: partial")).toEqual([]);
    expect(parser.end()).toEqual([]);
  });

  it("keeps lastEventId and retry across a reconnect but forgets partial data", () => {
    const parser = new SseParser();
    parser.feed("retry: 1500\nid: 42\ndata: done\n\ndata: half");
    parser.reset();
    expect(parser.lastEventId).toBe("42");
    expect(parser.retry).toBe(1500);
    expect(parser.feed("data: fresh\n\n")).toEqual([{ event: "message", data: "fresh", id: "42" }]);
  });

  it("handles a field with no colon and a value without the optional space", () => {
    expect(feedInPieces("data\ndata:x\n\n", [])).toEqual([{ event: "message", data: "\nx", id: "" }]);
  });
});

describe("readSse", () => {
  it("yields messages from a byte stream split inside a multi-byte character", async () => {
    const bytes = new TextEncoder().encode(STREAM);
    const euro = STREAM.indexOf("é");
    const byteCut = new TextEncoder().encode(STREAM.slice(0, euro)).length + 1; // inside "é"
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, byteCut));
        controller.enqueue(bytes.slice(byteCut));
        controller.close();
      },
    });
    const got: SseMessage[] = [];
    for await (const message of readSse(body)) got.push(message);
    expect(got).toEqual(EXPECTED);
  });
});
