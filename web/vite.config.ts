import { fileURLToPath, URL } from "node:url";

import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

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
  // `npm run dev`: the API of a local `everything-app serve`, one origin for cookies.
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", ws: true },
      "/v1": "http://127.0.0.1:8000",
    },
  },
});
