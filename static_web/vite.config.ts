import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

// Two pages: the self-hosted client (index.html) and the official ChatKit component
// (official.html). They are separate documents so that each gets its own
// Content-Security-Policy from staticwebapp.config.json: only official.html admits
// OpenAI's CDN.
export default defineConfig({
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
