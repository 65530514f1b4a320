import { describe, expect, it } from "vitest";
import { officialOptions, wantsOfficial } from "../src/official/options";
import { appConfig } from "./fixtures/app-config";

describe("officialOptions", () => {
  const config = appConfig();
  const seen: { url: string; headers: Headers }[] = [];
  const options = officialOptions({
    config,
    useCase: config.use_cases[0],
    apiBaseUrl: "https://func-abc.azurewebsites.net",
    fetch: async (url, init = {}) => {
      seen.push({ url, headers: new Headers(init.headers) });
      return new Response("{}");
    },
    timeZone: "Europe/Berlin",
    dark: true,
    locale: "de-DE",
    threadId: "thr_9",
  });

  it("points the component at the use case's endpoint with the domain key and two-phase uploads", () => {
    expect(options.api.url).toBe("https://func-abc.azurewebsites.net/api/chatkit/assistant");
    expect(options.api.domainKey).toBe("domain_pk_test");
    expect(options.api.uploadStrategy).toEqual({ type: "two_phase" });
  });

  it("offers only available models, marking the default", () => {
    expect(options.composer.models).toEqual([
      { id: "gpt-4.1-mini", label: "GPT-4.1 mini", default: true },
      { id: "llama3", label: "Llama 3 (Ollama)" },
    ]);
  });

  it("carries starter prompts, greeting, theme, locale, history and the thread to open", () => {
    expect(options.startScreen).toEqual({ greeting: "How can I help?", prompts: [{ label: "Time", prompt: "What time is it?", icon: "clock" }] });
    expect(options.theme).toEqual({ colorScheme: "dark" });
    expect(options.locale).toBe("de-DE");
    expect(options.history).toEqual({ enabled: true });
    expect(options.initialThread).toBe("thr_9");
  });

  it("maps the attachment limits, with extensions for known types", () => {
    expect(options.composer.attachments).toEqual({
      enabled: true,
      maxSize: 10 * 1024 * 1024,
      maxCount: 4,
      accept: { "image/png": [".png"], "application/pdf": [".pdf"], "application/x-unknown": [] },
    });
  });

  it("sends the time zone through the caller's fetch (which adds credentials)", async () => {
    await options.api.fetch("https://func-abc.azurewebsites.net/api/chatkit/assistant", { headers: { "Content-Type": "application/json" } });
    expect(seen[0].headers.get("X-User-Timezone")).toBe("Europe/Berlin");
    expect(seen[0].headers.get("Content-Type")).toBe("application/json");
  });

  it("hides the model picker when there is a single model, and refuses to build without a domain key", () => {
    const single = appConfig({ models: [{ id: "m", label: "M", available: true, default: true }] });
    expect(officialOptions({ config: single, useCase: single.use_cases[1], apiBaseUrl: "", fetch: fetch, timeZone: "UTC", dark: false }).composer.models).toBeUndefined();
    const keyless = appConfig({ chatkit: { api_path: "/api/chatkit", domain_key: null } });
    expect(() => officialOptions({ config: keyless, useCase: keyless.use_cases[0], apiBaseUrl: "", fetch, timeZone: "UTC", dark: false })).toThrow(/domain key/);
  });
});

describe("wantsOfficial", () => {
  it("uses the official component only with a domain key and no opt-out", () => {
    const withKey = appConfig();
    const keyless = appConfig({ chatkit: { api_path: "/api/chatkit", domain_key: null } });
    expect(wantsOfficial("auto", withKey, new URLSearchParams())).toBe(true);
    expect(wantsOfficial("official", keyless, new URLSearchParams())).toBe(false);
    expect(wantsOfficial("self-hosted", withKey, new URLSearchParams())).toBe(false);
    expect(wantsOfficial("auto", withKey, new URLSearchParams("ui=self-hosted"))).toBe(false);
    expect(wantsOfficial("auto", withKey, new URLSearchParams("fallback=cdn"))).toBe(false);
  });
});
