// Email verification required (REQUIRE_EMAIL_VERIFICATION=true): signing up through the UI
// says to check the inbox; signing in first is refused in words (and mails a fresh link);
// the mailed link lands on our page, which says the address is verified; then sign-in works.
// OUTBOX: the server's DATA_DIR/outbox.
import assert from "node:assert/strict";

import { checkA11y, flow, shot, uniqueEmail } from "./lib.mjs";
import { outboxNow, waitForMailedLink } from "./mail.mjs";

const PASSWORD = "correct horse battery";

await flow("accounts-verify", async ({ page, errors }) => {
  const outbox = process.env.OUTBOX;
  assert.ok(outbox, "OUTBOX (the server's DATA_DIR/outbox) is required");
  const email = uniqueEmail("verify");

  await page.goto("/sign-up");
  await page.getByLabel("Name").fill("Verity");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Check your inbox" }).waitFor();
  assert.match(await page.getByRole("status").first().innerText(), new RegExp(`sent a link to ${email}`));
  await shot(page, "accounts-verify-check-inbox");
  await checkA11y(page, "sign-up, check your inbox");

  // Signing in before verifying: refused in words, and a fresh link goes out.
  const seen = outboxNow(outbox);
  await page.getByRole("link", { name: "Go to sign in" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  assert.match(await page.getByRole("alert").innerText(), /not verified yet/);
  await shot(page, "accounts-verify-sign-in-refused");
  errors.splice(0, errors.length, ...errors.filter((line) => !line.includes("status of 403")));

  // The mailed link: the server verifies, then our page says so.
  const link = await waitForMailedLink(outbox, email, "/api/auth/verify-email", seen);
  await page.goto(link);
  await page.getByRole("heading", { name: "Email verified" }).waitFor();
  await shot(page, "accounts-verify-verified");
  await checkA11y(page, "email verified");

  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === "/chat");
  await page.goto("/account");
  await page.getByText("Verified", { exact: true }).waitFor();

  assert.deepEqual(errors, [], "console errors, CSP violations or missing assets");
});
