// The options object handed to OpenAI's <openai-chatkit> web component, built from
// /api/config. Pure, so it is unit-tested without the CDN script.

import type { FetchLike } from "../protocol/client";
import type { AppConfig, UseCaseInfo } from "../protocol/types";

export interface OfficialOptions {
  api: {
    url: string;
    domainKey: string;
    fetch: FetchLike;
    uploadStrategy: { type: "two_phase" };
  };
  locale?: string;
  theme: { colorScheme: "light" | "dark" };
  initialThread: string | null;
  history: { enabled: boolean };
  startScreen: { greeting: string; prompts: { label: string; prompt: string; icon?: string }[] };
  composer: {
    placeholder: string;
    models?: { id: string; label: string; default?: boolean }[];
    attachments: { enabled: boolean; maxSize: number; maxCount: number; accept: Record<string, string[]> };
  };
}

export interface OfficialInputs {
  config: AppConfig;
  useCase: UseCaseInfo;
  apiBaseUrl: string;
  fetch: FetchLike;
  timeZone: string;
  dark: boolean;
  locale?: string;
  threadId?: string | null;
}

const EXTENSIONS: Record<string, string[]> = {
  "image/png": [".png"],
  "image/jpeg": [".jpg", ".jpeg"],
  "image/gif": [".gif"],
  "image/webp": [".webp"],
  "application/pdf": [".pdf"],
  "text/plain": [".txt"],
  "text/markdown": [".md"],
  "text/csv": [".csv"],
  "application/json": [".json"],
};

export function officialOptions(inputs: OfficialInputs): OfficialOptions {
  const { config, useCase } = inputs;
  const domainKey = config.chatkit.domain_key;
  if (!domainKey) throw new Error("The official ChatKit component needs a domain key (CHATKIT_DOMAIN_KEY).");
  const available = config.models.filter((m) => m.available);
  // The component's fetch carries what our own client sends: the time zone header and,
  // in the Entra topology, the bearer token (inputs.fetch adds it).
  const fetchWithZone: FetchLike = (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set("X-User-Timezone", inputs.timeZone);
    return inputs.fetch(input, { ...init, headers });
  };
  return {
    api: {
      url: `${inputs.apiBaseUrl}${config.chatkit.api_path}/${encodeURIComponent(useCase.name)}`,
      domainKey,
      fetch: fetchWithZone,
      uploadStrategy: { type: "two_phase" },
    },
    ...(inputs.locale ? { locale: inputs.locale } : {}),
    theme: { colorScheme: inputs.dark ? "dark" : "light" },
    initialThread: inputs.threadId ?? null,
    history: { enabled: true },
    startScreen: {
      greeting: useCase.greeting || useCase.title,
      prompts: useCase.starter_prompts.map((p) => ({ label: p.label, prompt: p.prompt, ...(p.icon ? { icon: p.icon } : {}) })),
    },
    composer: {
      placeholder: `Message ${useCase.title}`,
      ...(available.length > 1
        ? { models: available.map((m) => ({ id: m.id, label: m.label, ...(m.id === config.default_model ? { default: true } : {}) })) }
        : {}),
      attachments: {
        enabled: config.attachments.enabled,
        maxSize: config.attachments.max_bytes,
        maxCount: config.attachments.max_per_message,
        accept: Object.fromEntries(config.attachments.accept.map((mime) => [mime, EXTENSIONS[mime] ?? []])),
      },
    },
  };
}

/** Whether this deployment and request want the official component. */
export function wantsOfficial(ui: "auto" | "self-hosted" | "official", config: AppConfig, search: URLSearchParams): boolean {
  if (search.has("fallback") || search.get("ui") === "self-hosted" || ui === "self-hosted") return false;
  return Boolean(config.chatkit.domain_key);
}

export const CDN_SCRIPT = "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js";
