// Minimal page: the official ChatKit web component, configured from /api/config.
// The full self-hosted client arrives with the frontend work; this page says so
// plainly when the component cannot load (offline, blocked CDN, no domain key).

const notice = document.getElementById("notice");
const select = document.getElementById("use-case");
const chat = document.getElementById("chat");
const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

function say(message) {
  notice.textContent = message;
  notice.hidden = false;
}

async function loadConfig() {
  const response = await fetch("/api/config", { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body?.error?.message || `HTTP ${response.status}`);
  return body;
}

function domainKey(config) {
  if (config.chatkit.domain_key) return config.chatkit.domain_key;
  const local = ["localhost", "127.0.0.1"].includes(location.hostname);
  return local ? "domain_pk_localhost_dev" : null;
}

async function waitForComponent(ms) {
  if (customElements.get("openai-chatkit")) return true;
  const timeout = new Promise((resolve) => setTimeout(() => resolve(false), ms));
  return Promise.race([customElements.whenDefined("openai-chatkit").then(() => true), timeout]);
}

function mount(config, useCaseName) {
  const useCase = config.use_cases.find((u) => u.name === useCaseName) || config.use_cases[0];
  chat.replaceChildren();
  const element = document.createElement("openai-chatkit");
  chat.append(element);
  element.setOptions({
    api: {
      url: `${config.chatkit.api_path}/${useCase.name}`,
      domainKey: domainKey(config),
      fetch: (input, init = {}) => {
        const headers = new Headers(init.headers);
        headers.set("X-User-Timezone", timeZone);
        return fetch(input, { ...init, headers });
      },
    },
    history: { enabled: true },
    startScreen: {
      greeting: useCase.greeting,
      prompts: useCase.starter_prompts.map((p) => ({ label: p.label, prompt: p.prompt, icon: p.icon })),
    },
    composer: {
      placeholder: `Message ${useCase.title}`,
      models: config.models
        .filter((m) => m.available)
        .map((m) => ({ id: m.id, label: m.label, default: m.default })),
    },
  });
}

async function main() {
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    say(`Could not load the app configuration: ${error.message}`);
    return;
  }
  for (const useCase of config.use_cases) {
    select.append(new Option(useCase.title, useCase.name, false, useCase.name === config.default_use_case));
  }
  if (!config.model_configured) {
    say("No model is configured yet: chat turns will answer with what to set (see the README's configuration table).");
  }
  if (!domainKey(config)) {
    say("No ChatKit domain key is configured (CHATKIT_DOMAIN_KEY), so the ChatKit component cannot start here.");
    return;
  }
  if (!(await waitForComponent(5000))) {
    say("The ChatKit web component could not be loaded from its CDN (offline or blocked). The API still works at /api/chatkit.");
    return;
  }
  mount(config, select.value);
  select.addEventListener("change", () => mount(config, select.value));
}

main();
