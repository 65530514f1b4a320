import { describe, expect, it } from "vitest";
import { bearerFetch, startSession } from "../src/boot/auth";
import { DEFAULT_RUNTIME_CONFIG, parseRuntimeConfig } from "../src/boot/runtime-config";

describe("parseRuntimeConfig", () => {
  it("defaults everything for an empty or missing file", () => {
    expect(parseRuntimeConfig({})).toEqual(DEFAULT_RUNTIME_CONFIG);
    expect(parseRuntimeConfig(null)).toEqual(DEFAULT_RUNTIME_CONFIG);
  });

  it("trims the API base URL and rejects a non-http one", () => {
    expect(parseRuntimeConfig({ apiBaseUrl: "https://func.azurewebsites.net/" }).apiBaseUrl).toBe("https://func.azurewebsites.net");
    expect(() => parseRuntimeConfig({ apiBaseUrl: "javascript:alert(1)" })).toThrow(/apiBaseUrl/);
  });

  it("requires client id, authority and scopes for Entra sign-in", () => {
    expect(() => parseRuntimeConfig({ auth: { mode: "entra" } })).toThrow(/clientId/);
    const entra = { clientId: "c", authority: "https://login.microsoftonline.com/t", scopes: ["api://a/user_impersonation"] };
    expect(parseRuntimeConfig({ auth: { mode: "entra", entra } }).auth).toMatchObject({ mode: "entra", entra });
  });
});

describe("bearerFetch", () => {
  it("adds the token to API calls only, never to other hosts", async () => {
    const seen: [string, string | null][] = [];
    const base = async (url: string, init: RequestInit = {}) => {
      seen.push([url, new Headers(init.headers).get("Authorization")]);
      return new Response("ok");
    };
    const fetchWithToken = bearerFetch(async () => "tok123", "https://func.azurewebsites.net", base);
    await fetchWithToken("https://func.azurewebsites.net/api/config");
    await fetchWithToken("https://acct.blob.core.windows.net/attachments/x?sig=s");
    expect(seen).toEqual([
      ["https://func.azurewebsites.net/api/config", "Bearer tok123"],
      ["https://acct.blob.core.windows.net/attachments/x?sig=s", null],
    ]);
  });
});

describe("startSession", () => {
  const principal = { clientPrincipal: { userId: "u1", userDetails: "alice@example.com", identityProvider: "aad" } };

  it("detects Static Web Apps sign-in from /.auth/me", async () => {
    const session = await startSession(DEFAULT_RUNTIME_CONFIG, (async () => Response.json(principal)) as typeof fetch);
    expect(session).toMatchObject({ mode: "swa", signedOut: false, user: { name: "alice@example.com", id: "u1" } });
  });

  it("knows a signed-out Static Web Apps visitor", async () => {
    const session = await startSession(DEFAULT_RUNTIME_CONFIG, (async () => Response.json({ clientPrincipal: null })) as typeof fetch);
    expect(session).toMatchObject({ mode: "swa", signedOut: true, user: null });
  });

  it("runs without sign-in when no Static Web Apps is in front (local host)", async () => {
    const session = await startSession(DEFAULT_RUNTIME_CONFIG, (async () => new Response("not found", { status: 404 })) as typeof fetch);
    expect(session).toMatchObject({ mode: "none", signedOut: false });
  });

  it("insists on sign-in when the deployment says swa and /.auth is missing", async () => {
    const config = parseRuntimeConfig({ auth: { mode: "swa" } });
    const session = await startSession(config, (async () => new Response("", { status: 404 })) as typeof fetch);
    expect(session.signedOut).toBe(true);
  });
});
