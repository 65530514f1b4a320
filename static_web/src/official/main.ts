// official.html: OpenAI's ChatKit web component against our backend. Falls back to the
// self-hosted client (index.html) when the CDN script does not arrive in time.

import "../styles.css";
import { boot } from "../boot/load";
import { h } from "../ui/dom";
import { CDN_SCRIPT, officialOptions } from "./options";

const LOAD_TIMEOUT_MS = 5000;

function fallback(reason: "cdn" | "no-domain-key"): void {
  const params = new URLSearchParams(location.search);
  params.set("fallback", reason);
  location.replace(`/?${params}`);
}

function loadComponent(): Promise<boolean> {
  if (customElements.get("openai-chatkit")) return Promise.resolve(true);
  const script = h("script", { src: CDN_SCRIPT, async: true });
  const failed = new Promise<boolean>((resolve) => {
    script.addEventListener("error", () => resolve(false));
    setTimeout(() => resolve(false), LOAD_TIMEOUT_MS);
  });
  document.head.append(script);
  return Promise.race([customElements.whenDefined("openai-chatkit").then(() => true), failed]);
}

async function main(): Promise<void> {
  const root = document.getElementById("app") as HTMLElement;
  const booted = await boot(root);
  if (!booted) return;
  const { config, runtime, session } = booted;
  if (!config.chatkit.domain_key) return fallback("no-domain-key");
  if (!(await loadComponent())) return fallback("cdn");

  const params = new URLSearchParams(location.search);
  const select = h("select", { "aria-label": "Use case", className: "use-case" });
  for (const u of config.use_cases) select.append(new Option(u.title, u.name));
  select.value = config.use_cases.some((u) => u.name === params.get("use_case")) ? String(params.get("use_case")) : config.default_use_case;
  const host = h("div", { className: "official-host" });
  root.classList.add("ready", "official");
  root.replaceChildren(h("header", { className: "official-bar" }, h("span", { className: "brand" }, "ChatKit on Azure"), select), host);

  const mount = () => {
    const useCase = config.use_cases.find((u) => u.name === select.value) ?? config.use_cases[0];
    const element = document.createElement("openai-chatkit") as HTMLElement & { setOptions(options: unknown): void };
    host.replaceChildren(element);
    element.setOptions(
      officialOptions({
        config,
        useCase,
        apiBaseUrl: runtime.apiBaseUrl,
        fetch: session.fetch,
        timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
        dark: matchMedia("(prefers-color-scheme: dark)").matches,
        locale: navigator.language,
      }),
    );
  };
  select.addEventListener("change", mount);
  mount();
}

void main();
