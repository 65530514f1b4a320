import { copyFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

// azd's postprovision hook writes static_web/app-config.json (git-ignored) with the
// deployed API's URL and sign-in settings; it replaces the local default from public/.
// Local builds (scripts/run, the tests) set STATIC_WEB_CONFIG=local to keep the default.
function deploymentConfig(): Plugin {
  const source = resolve(import.meta.dirname, "app-config.json");
  return {
    name: "deployment-app-config",
    apply: "build",
    writeBundle(options) {
      if (process.env.STATIC_WEB_CONFIG === "local") return;
      if (existsSync(source)) copyFileSync(source, resolve(options.dir ?? "dist", "app-config.json"));
    },
  };
}

// Two pages: the self-hosted client (index.html) and the official ChatKit component
// (official.html). They are separate documents so that each gets its own
// Content-Security-Policy from staticwebapp.config.json: only official.html admits
// OpenAI's CDN.
export default defineConfig({
  plugins: [deploymentConfig()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, "index.html"),
        official: resolve(import.meta.dirname, "official.html"),
      },
    },
  },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.ts"],
  },
});
