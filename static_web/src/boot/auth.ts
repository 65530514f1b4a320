// Who the user is, and a fetch that proves it to the API.
// - swa: Static Web Apps signs users in (cookies); its proxy adds the principal header.
// - entra: the page calls the Function app directly and sends an Entra ID bearer token.
// - none: local development without a sign-in in front.

import type { FetchLike } from "../protocol/client";
import type { EntraSettings, RuntimeConfig } from "./runtime-config";

export interface User {
  name: string;
  id: string;
}

export interface Session {
  mode: "none" | "swa" | "entra";
  user: User | null;
  /** Sign-in is required and has not happened yet. */
  signedOut: boolean;
  fetch: FetchLike;
  /** Extra headers for direct uploads to the API origin (never sent to storage). */
  authHeaders(): Promise<Record<string, string>>;
  signIn(): void;
  signOut(): void;
}

export type TokenProvider = () => Promise<string>;

/** Add a bearer token to calls to the API origin only; storage and other hosts never see it. */
export function bearerFetch(getToken: TokenProvider, apiOrigin: string, base: FetchLike): FetchLike {
  return async (input, init = {}) => {
    const target = new URL(input, location.href);
    if (target.origin !== apiOrigin) return base(input, init);
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${await getToken()}`);
    return base(input, { ...init, headers });
  };
}

interface SwaPrincipal {
  userId: string;
  userDetails: string;
  identityProvider: string;
}

async function swaPrincipal(fetchFn: typeof fetch): Promise<SwaPrincipal | null | undefined> {
  try {
    const response = await fetchFn("/.auth/me", { cache: "no-store" });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { clientPrincipal?: SwaPrincipal | null };
    return "clientPrincipal" in body ? (body.clientPrincipal ?? null) : undefined;
  } catch {
    return undefined; // No Static Web Apps in front (local host): not an error.
  }
}

function here(): string {
  return location.pathname + location.search;
}

export async function startSession(config: RuntimeConfig, fetchFn: typeof fetch = fetch.bind(window)): Promise<Session> {
  const base: FetchLike = (input, init) => fetchFn(input, init);
  const plain = {
    fetch: base,
    authHeaders: async () => ({}),
    signIn: () => {},
    signOut: () => {},
  };
  if (config.auth.mode === "entra" && config.auth.entra) {
    return entraSession(config, config.auth.entra, base);
  }
  if (config.auth.mode === "none") return { ...plain, mode: "none", user: null, signedOut: false };
  const principal = await swaPrincipal(fetchFn);
  if (principal === undefined) {
    if (config.auth.mode === "swa") {
      return { ...plain, mode: "swa", user: null, signedOut: true, signIn: () => swaSignIn(config) };
    }
    return { ...plain, mode: "none", user: null, signedOut: false };
  }
  return {
    ...plain,
    mode: "swa",
    user: principal ? { name: principal.userDetails, id: principal.userId } : null,
    signedOut: principal === null,
    signIn: () => swaSignIn(config),
    signOut: () => location.assign(`/.auth/logout?post_logout_redirect_uri=${encodeURIComponent("/")}`),
  };
}

function swaSignIn(config: RuntimeConfig): void {
  const provider = encodeURIComponent(config.auth.provider || "aad");
  location.assign(`/.auth/login/${provider}?post_login_redirect_uri=${encodeURIComponent(here())}`);
}

async function entraSession(config: RuntimeConfig, entra: EntraSettings, base: FetchLike): Promise<Session> {
  // Loaded only in this topology, so other deployments don't download MSAL.
  const msal = await import("@azure/msal-browser");
  const app = new msal.PublicClientApplication({
    auth: {
      clientId: entra.clientId,
      authority: entra.authority,
      redirectUri: entra.redirectUri || `${location.origin}/`,
    },
    cache: { cacheLocation: "sessionStorage" },
  });
  await app.initialize();
  const result = await app.handleRedirectPromise();
  const account = result?.account ?? app.getActiveAccount() ?? app.getAllAccounts()[0] ?? null;
  if (account) app.setActiveAccount(account);
  const request = { scopes: entra.scopes };
  const getToken: TokenProvider = async () => {
    const active = app.getActiveAccount();
    if (!active) {
      await app.loginRedirect({ ...request, redirectStartPage: location.href });
      throw new Error("Signing in…");
    }
    try {
      return (await app.acquireTokenSilent({ ...request, account: active })).accessToken;
    } catch (error) {
      if (error instanceof msal.InteractionRequiredAuthError) {
        await app.acquireTokenRedirect({ ...request, account: active });
      }
      throw error;
    }
  };
  const apiOrigin = new URL(config.apiBaseUrl || location.origin).origin;
  return {
    mode: "entra",
    user: account ? { name: account.name || account.username, id: account.homeAccountId } : null,
    signedOut: !account,
    fetch: bearerFetch(getToken, apiOrigin, base),
    authHeaders: async () => ({ Authorization: `Bearer ${await getToken()}` }),
    signIn: () => void app.loginRedirect({ ...request, redirectStartPage: location.href }),
    signOut: () => void app.logoutRedirect({ postLogoutRedirectUri: `${location.origin}/` }),
  };
}
