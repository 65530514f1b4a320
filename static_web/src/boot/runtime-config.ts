// Where the API lives and how users sign in. The deployment writes /app-config.json
// (azd's postprovision hook); the copy in public/ is the local default: same origin,
// sign-in detected from Static Web Apps if it is in front.

export type AuthMode = "auto" | "none" | "swa" | "entra";

export interface EntraSettings {
  clientId: string;
  /** e.g. https://login.microsoftonline.com/<tenant id> */
  authority: string;
  /** e.g. ["api://<api app id>/user_impersonation"] */
  scopes: string[];
  redirectUri?: string;
}

export interface RuntimeConfig {
  /** "" for same origin (linked backend or local host), else the Function app's origin. */
  apiBaseUrl: string;
  auth: { mode: AuthMode; provider?: string; entra?: EntraSettings };
  /** "auto": the official component when a domain key is configured, else self-hosted. */
  ui: "auto" | "self-hosted" | "official";
}

export const DEFAULT_RUNTIME_CONFIG: RuntimeConfig = {
  apiBaseUrl: "",
  auth: { mode: "auto", provider: "aad" },
  ui: "auto",
};

export function parseRuntimeConfig(raw: unknown): RuntimeConfig {
  const value = (raw && typeof raw === "object" ? raw : {}) as Partial<RuntimeConfig>;
  const auth = (value.auth && typeof value.auth === "object" ? value.auth : {}) as RuntimeConfig["auth"];
  const mode: AuthMode = ["auto", "none", "swa", "entra"].includes(auth.mode) ? auth.mode : "auto";
  const apiBaseUrl = typeof value.apiBaseUrl === "string" ? value.apiBaseUrl.replace(/\/+$/, "") : "";
  if (apiBaseUrl && !/^https?:\/\//.test(apiBaseUrl)) {
    throw new Error(`app-config.json: apiBaseUrl must be an http(s) URL, got "${apiBaseUrl}"`);
  }
  if (mode === "entra") {
    const entra = auth.entra;
    if (!entra?.clientId || !entra.authority || !Array.isArray(entra.scopes) || entra.scopes.length === 0) {
      throw new Error("app-config.json: auth.mode 'entra' needs auth.entra.clientId, authority and scopes");
    }
  }
  const ui = value.ui === "self-hosted" || value.ui === "official" ? value.ui : "auto";
  return { apiBaseUrl, auth: { ...auth, mode, provider: auth.provider || "aad" }, ui };
}

export async function loadRuntimeConfig(fetchFn: typeof fetch = fetch): Promise<RuntimeConfig> {
  try {
    const response = await fetchFn("/app-config.json", { cache: "no-store" });
    if (!response.ok) return DEFAULT_RUNTIME_CONFIG;
    return parseRuntimeConfig(await response.json());
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("app-config.json")) throw error;
    return DEFAULT_RUNTIME_CONFIG;
  }
}

export function apiUrl(config: RuntimeConfig, path: string): string {
  return `${config.apiBaseUrl}${path}`;
}
