// The harness checks itself (run by tests/webapp/test_harness.py): signUp() leaves the page's
// context signed in, checkA11y() throws on a serious violation and passes a clean page, and
// collectErrors() sees a CSP violation.
import assert from "node:assert/strict";

import { checkA11y, flow, signUp, uniqueEmail } from "./lib.mjs";

await flow("harness", async ({ page, errors }) => {
  const email = uniqueEmail("harness");
  await signUp(page, { name: "Harness", email, password: "correct horse battery" });
  const session = await (await page.request.get("/api/auth/get-session")).json();
  assert.equal(session?.user?.email, email, "signed in by the cookie signUp left");

  await page.goto("/", { waitUntil: "networkidle" });
  await checkA11y(page, "a clean page");
  // An image without alternative text: axe's "image-alt", critical.
  await page.evaluate(() => {
    const image = document.createElement("img");
    image.src = "data:image/gif;base64,R0lGODlhAQABAAAAACw=";
    document.body.append(image);
  });
  await assert.rejects(checkA11y(page, "an image without alt"), /image-alt \(critical\)/);

  // An inline script is refused by the app's CSP, and collectErrors() reports the refusal.
  const refused = page.waitForEvent("console", (m) => /Content Security Policy/.test(m.text()));
  await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "window.inline = true";
    document.body.append(script);
  });
  await refused;
  assert.equal(await page.evaluate(() => window.inline), undefined, "inline script blocked");
  assert.ok(errors.some((e) => /Content Security Policy/.test(e)), JSON.stringify(errors));
});
