// The app loads at / under its CSP with no console error, CSP violation or missing asset;
// a client route (/chat) is the same app; a screenshot; no serious accessibility violation.
// Signed in first (through the API), so the pages load as a user sees them, without the 401s
// a signed-out page's requests would log.
import assert from "node:assert/strict";

import { checkA11y, flow, shot, signUp } from "./lib.mjs";

const APP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
  "form-action 'self'; frame-ancestors 'none'";

await flow("smoke", async ({ page, errors }) => {
  await signUp(page, { name: "Smoke" });
  const response = await page.goto("/", { waitUntil: "networkidle" });
  assert.equal(response.status(), 200, "GET /");
  assert.equal(response.headers()["content-security-policy"], APP_CSP, "the app's CSP");
  assert.equal(response.headers()["cache-control"], "no-cache");
  const scripts = await page.locator("script[src]").count();
  assert.ok(scripts > 0, "index.html loads a script (is this the built app?)");
  await shot(page, "smoke-home");
  await checkA11y(page, "home");

  const route = await page.goto("/chat", { waitUntil: "networkidle" });
  assert.equal(route.status(), 200, "GET /chat (a client route)");
  assert.equal(route.headers()["content-security-policy"], APP_CSP);
  await shot(page, "smoke-chat-route");
  assert.deepEqual(errors, [], "console errors, CSP violations or missing assets");
});
