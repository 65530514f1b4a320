// Sends an attachment's bytes where attachments.create said to. XMLHttpRequest rather
// than fetch: fetch reports no upload progress.

import type { UploadDescriptor } from "../protocol/types";

export interface UploadOptions {
  file: Blob & { name?: string };
  descriptor: UploadDescriptor;
  /** Headers for our own API (a bearer token); not sent to other hosts such as Blob SAS URLs. */
  apiHeaders?: Record<string, string>;
  apiOrigin: string;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  createRequest?: () => XMLHttpRequest;
}

export function upload(options: UploadOptions): Promise<void> {
  const { file, descriptor } = options;
  return new Promise((resolve, reject) => {
    const xhr = options.createRequest ? options.createRequest() : new XMLHttpRequest();
    const target = new URL(descriptor.url, location.href);
    xhr.open(descriptor.method, target.href);
    // Cookies (Static Web Apps sign-in) go along to our own origin only.
    xhr.withCredentials = false;
    for (const [name, value] of Object.entries(descriptor.headers ?? {})) xhr.setRequestHeader(name, value);
    if (target.origin === options.apiOrigin) {
      for (const [name, value] of Object.entries(options.apiHeaders ?? {})) xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) options.onProgress?.(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        options.onProgress?.(1);
        resolve();
        return;
      }
      let message = `Upload failed (HTTP ${xhr.status}).`;
      try {
        const body = JSON.parse(xhr.responseText) as { error?: { message?: string } };
        if (body.error?.message) message = body.error.message;
      } catch {
        // Storage answers XML; keep the generic message.
      }
      reject(new Error(message));
    };
    xhr.onerror = () => reject(new Error("Upload failed: the connection was lost."));
    xhr.onabort = () => reject(new DOMException("Upload cancelled.", "AbortError"));
    options.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    if (descriptor.method === "PUT") {
      if (file.type && !hasHeader(descriptor.headers, "content-type")) xhr.setRequestHeader("Content-Type", file.type);
      xhr.send(file);
    } else {
      const form = new FormData();
      form.append("file", file, file.name ?? "upload");
      xhr.send(form);
    }
  });
}

function hasHeader(headers: Record<string, string> | undefined, name: string): boolean {
  return Object.keys(headers ?? {}).some((key) => key.toLowerCase() === name);
}
