import "./styles.css";
import "./widgets/widgets.css";
import { ChatApp } from "./app";
import { boot } from "./boot/load";
import { wantsOfficial } from "./official/options";

const FALLBACK_NOTICES: Record<string, string> = {
  cdn: "The official ChatKit component could not be loaded from OpenAI's CDN, so this self-hosted client is shown instead.",
  "no-domain-key": "No ChatKit domain key is configured, so this self-hosted client is shown instead of the official component.",
};

async function main(): Promise<void> {
  const root = document.getElementById("app") as HTMLElement;
  const booted = await boot(root);
  if (!booted) return;
  const params = new URLSearchParams(location.search);
  if (wantsOfficial(booted.runtime.ui, booted.config, params)) {
    location.replace(`/official.html${location.search}`);
    return;
  }
  const notices: string[] = [];
  const fallback = params.get("fallback");
  if (fallback) notices.push(FALLBACK_NOTICES[fallback] ?? FALLBACK_NOTICES.cdn);
  if (!booted.config.model_configured) {
    notices.push("No model is configured yet: answers will say what to set (see the README's configuration table).");
  }
  root.classList.add("ready");
  new ChatApp({ root, config: booted.config, session: booted.session, apiBaseUrl: booted.runtime.apiBaseUrl, notice: notices.join(" ") || undefined });
}

void main();
