import { describe, expect, it } from "vitest";
import { upload } from "../src/ui/upload";

/** Records what upload() does with the request, and lets the test answer it. */
class FakeXhr {
  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: unknown;
  status = 0;
  responseText = "";
  withCredentials = true;
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body: unknown) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
  answer(status: number, text = "") {
    this.status = status;
    this.responseText = text;
    this.onload?.();
  }
}

const file = new File([new Uint8Array([1, 2, 3])], "cat.png", { type: "image/png" });

function start(descriptor: { url: string; method: "PUT" | "POST"; headers?: Record<string, string> }, progress: number[] = []) {
  const xhr = new FakeXhr();
  const done = upload({
    file,
    descriptor,
    apiOrigin: "https://func.example.net",
    apiHeaders: { Authorization: "Bearer t0k" },
    onProgress: (f) => progress.push(f),
    createRequest: () => xhr as unknown as XMLHttpRequest,
  });
  return { xhr, done };
}

describe("upload", () => {
  it("PUTs the raw bytes to a Blob SAS URL with its headers and never the API token", async () => {
    const progress: number[] = [];
    const { xhr, done } = start({ url: "https://acct.blob.core.windows.net/a/b?sig=x", method: "PUT", headers: { "x-ms-blob-type": "BlockBlob", "Content-Type": "image/png" } }, progress);
    xhr.upload.onprogress?.({ lengthComputable: true, loaded: 1, total: 3 });
    xhr.answer(201);
    await done;
    expect(xhr.method).toBe("PUT");
    expect(xhr.body).toBe(file);
    expect(xhr.headers).toEqual({ "x-ms-blob-type": "BlockBlob", "Content-Type": "image/png" });
    expect(xhr.withCredentials).toBe(false);
    expect(progress).toEqual([1 / 3, 1]);
  });

  it("POSTs multipart to the app's own upload URL with the API token", async () => {
    const { xhr, done } = start({ url: "https://func.example.net/api/attachments/atc_1/upload", method: "POST" });
    xhr.answer(200, "{}");
    await done;
    expect(xhr.body).toBeInstanceOf(FormData);
    expect((xhr.body as FormData).get("file")).toBeInstanceOf(File);
    expect(xhr.headers.Authorization).toBe("Bearer t0k");
  });

  it("rejects with the server's message, or a generic one for storage's XML", async () => {
    const first = start({ url: "https://func.example.net/api/attachments/a/upload", method: "POST" });
    first.xhr.answer(415, JSON.stringify({ error: { message: "The file is not a PNG image." } }));
    await expect(first.done).rejects.toThrow("The file is not a PNG image.");
    const second = start({ url: "https://acct.blob.core.windows.net/a/b?sig=x", method: "PUT" });
    second.xhr.answer(403, "<Error><Code>AuthenticationFailed</Code></Error>");
    await expect(second.done).rejects.toThrow("Upload failed (HTTP 403).");
  });
});
