import { fileURLToPath, URL } from "node:url";

import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const api = process.env.API_URL ?? "http://127.0.0.1:8000";
const apiProxy = { "/api": { target: api, ws: true }, "/v1": api };

// The build lands inside the Python package, which serves it (everything_app.webapp):
// index.html at /, hashed files under /assets/ (cached for a year), manifest for bench/webapp.py.
export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: {
    outDir: "../src/everything_app/webapp/static",
    emptyOutDir: true,
    manifest: true,
    target: "es2022",
    // Chromium, Firefox and Safari all support modulepreload; the polyfill only adds bytes.
    modulePreload: { polyfill: false },
  },
  // `npm run dev` / `vite preview`: the API of a local `everything-app serve` (API_URL),
  // proxied so the page and the API share one origin (cookies, the CSRF check).
  server: { proxy: apiProxy },
  preview: { proxy: apiProxy },
});
