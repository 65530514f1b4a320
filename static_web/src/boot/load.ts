// What both pages do first: find the API, sign in, read /api/config.

import type { AppConfig } from "../protocol/types";
import { describe, errorFromResponse } from "../protocol/errors";
import { startSession, type Session } from "./auth";
import { loadRuntimeConfig, type RuntimeConfig } from "./runtime-config";
import { h } from "../ui/dom";

export interface Booted {
  runtime: RuntimeConfig;
  session: Session;
  config: AppConfig;
}

export async function boot(root: HTMLElement): Promise<Booted | null> {
  let runtime: RuntimeConfig;
  let session: Session;
  try {
    runtime = await loadRuntimeConfig();
    session = await startSession(runtime);
  } catch (error) {
    showProblem(root, (error as Error).message);
    return null;
  }
  if (session.signedOut) {
    showSignIn(root, session);
    return null;
  }
  try {
    const response = await session.fetch(`${runtime.apiBaseUrl}/api/config`, { headers: { Accept: "application/json" } });
    if (!response.ok) throw await errorFromResponse(response);
    return { runtime, session, config: (await response.json()) as AppConfig };
  } catch (error) {
    if ((error as { status?: number }).status === 401) showSignIn(root, session);
    else showProblem(root, `Could not load the app configuration. ${describe(error)}`);
    return null;
  }
}

function showSignIn(root: HTMLElement, session: Session): void {
  root.replaceChildren(
    h(
      "section",
      { className: "gate" },
      h("h1", {}, "ChatKit on Azure"),
      h("p", {}, "Sign in to see your conversations."),
      h("button", { type: "button", className: "primary", onclick: () => session.signIn() }, "Sign in"),
    ),
  );
}

export function showProblem(root: HTMLElement, message: string): void {
  root.replaceChildren(h("section", { className: "gate" }, h("h1", {}, "ChatKit on Azure"), h("p", { role: "alert" }, message)));
}
