// Accounts in the browser: sign up through the UI, the device list, sign out, a wrong
// password shown in words, sign in; an API key shown once (then only its prefix, the secret
// nowhere in the page), used, charted and revoked, the list live; a second device signed out
// from the first; and, when OUTBOX is set (the server's DATA_DIR/outbox), the mailed links
// (verification, change of email, password reset) followed to the app's own pages.
import assert from "node:assert/strict";

import { checkA11y, flow, newContext, shot, uniqueEmail } from "./lib.mjs";
import { outboxNow, waitForMailedLink } from "./mail.mjs";

const PASSWORD = "correct horse battery";

/** Drops the console lines of requests a step expects to fail (a 401 for a wrong password). */
function forgetExpectedFailures(errors, status) {
  const rest = errors.filter((line) => !line.includes(`status of ${status}`));
  errors.splice(0, errors.length, ...rest);
}

await flow("accounts", async ({ browser, context, page, errors }) => {
  let email = uniqueEmail("accounts");
  const outbox = process.env.OUTBOX;

  // Sign up through the form.
  await page.goto("/sign-up");
  await page.getByRole("heading", { name: "Create an account" }).waitFor();
  await checkA11y(page, "sign-up");
  await page.getByLabel("Name").fill("Ada Lovelace");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await shot(page, "accounts-sign-up");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL((url) => url.pathname === "/chat");

  // The account page: the profile, and this device in the device list.
  await page.goto("/account");
  await page.getByRole("heading", { name: "Account", level: 1 }).waitFor();
  await page.getByText(email).waitFor();
  const devices = page.getByRole("region", { name: "Devices" });
  await devices.getByText("This device").waitFor();
  assert.equal(await devices.getByRole("row").count(), 2, "a header row and this one device");
  await shot(page, "accounts-account");
  await checkA11y(page, "account");

  // Sign out, then a wrong password: the page says so in words.
  await page.getByRole("main").getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL((url) => url.pathname === "/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.innerText(), /email or the password is wrong/i);
  forgetExpectedFailures(errors, 401);
  await shot(page, "accounts-sign-in-wrong-password");
  await checkA11y(page, "sign-in with an error");

  // The right one signs in, and the page the sign-out came from is back.
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === "/account");

  // A second device signs in; this one sees it and signs it out.
  const phone = await newContext(browser, {
    userAgent:
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
  });
  const signedIn = await phone.request.post("/api/auth/sign-in/email", {
    data: { email, password: PASSWORD },
    headers: { Origin: new URL(page.url()).origin },
  });
  assert.equal(signedIn.status(), 200, "the second device signs in");
  await page.reload();
  await devices.getByText("Safari on iOS").waitFor();
  await devices.getByRole("button", { name: /^Sign out Safari on iOS/ }).click();
  await devices.getByText("Safari on iOS").waitFor({ state: "detached" });
  assert.equal(await (await phone.request.get("/api/auth/get-session")).json(), null, "the phone is signed out");
  await phone.close();

  // With the outbox: the verification link and a change of email, each mailed link landing
  // on the app's own page and leading back to the account.
  if (outbox) {
    let before = outboxNow(outbox);
    await page.getByRole("button", { name: "Resend verification email" }).click();
    await page.getByText(`We sent a verification link to ${email}.`).waitFor();
    await page.goto(await waitForMailedLink(outbox, email, "/api/auth/verify-email", before));
    await page.getByRole("heading", { name: "Email verified" }).waitFor();
    await checkA11y(page, "email verified");
    await page.getByRole("link", { name: "Continue" }).click();
    await page.getByText("Verified", { exact: true }).waitFor();

    const newEmail = uniqueEmail("moved");
    before = outboxNow(outbox);
    await page.getByLabel("New email").fill(newEmail);
    await page.getByRole("button", { name: "Send the link" }).click();
    await page.getByText(/a link is on its way there/).waitFor();
    await page.goto(await waitForMailedLink(outbox, newEmail, "/api/auth/verify-email", before));
    await page.getByRole("heading", { name: "Email changed" }).waitFor();
    await shot(page, "accounts-email-changed");
    await page.getByRole("link", { name: "Continue" }).click();
    await page.getByText(newEmail).waitFor();
    email = newEmail;
  }

  // An API key: the secret once, with a Copy button.
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto("/keys");
  await page.getByRole("heading", { name: "API keys", level: 1 }).waitFor();
  await page.getByText("No keys yet").waitFor();
  await page.getByLabel("Name").fill("Build server");
  await page.getByLabel("Expires in days (optional)").fill("30");
  await page.getByRole("button", { name: "Create key" }).click();
  const dialog = page.getByRole("dialog", { name: "Your new API key" });
  await dialog.waitFor();
  const secret = await dialog.getByRole("textbox", { name: "Build server" }).inputValue();
  assert.match(secret, /^ea_\S{20,}$/, "the full key is shown");
  assert.match(await dialog.innerText(), /only time the full key is shown/);
  await dialog.getByRole("button", { name: "Copy" }).click();
  await dialog.getByText("Copied to the clipboard.").waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret, "the clipboard holds the key");
  await shot(page, "accounts-key-shown-once");
  await checkA11y(page, "keys with the new key's dialog");
  await dialog.getByRole("button", { name: "I have saved it" }).click();
  await dialog.waitFor({ state: "hidden" });

  // After closing: the prefix in the list, the secret nowhere in the page.
  const keys = page.getByRole("region", { name: "Your keys" });
  const row = keys.getByRole("row").filter({ hasText: "Build server" });
  await row.waitFor();
  const shownPrefix = (await row.locator("code").innerText()).replace(/…$/, "");
  assert.ok(shownPrefix.length >= 6 && secret.startsWith(shownPrefix), `prefix ${shownPrefix} of the key`);
  assert.ok(!(await page.locator("body").innerText()).includes(secret), "the secret is not in the page's text");
  assert.ok(!(await page.content()).includes(secret), "the secret is not in the page's HTML");
  assert.match(await row.innerText(), /active/);

  // The key works, and its use shows in the usage chart.
  const completion = await page.request.post("/v1/chat/completions", {
    headers: { Authorization: `Bearer ${secret}` },
    data: { model: "offline", messages: [{ role: "user", content: "Hello" }] },
  });
  assert.equal(completion.status(), 200, "a completion with the key");
  await page.getByRole("button", { name: "Refresh" }).click();
  await page.getByRole("img", { name: "Tokens by key" }).waitFor();
  const byKey = page.getByRole("table", { name: "Tokens by key" });
  assert.match(await byKey.innerText(), new RegExp(`Build server \\(${shownPrefix}`));
  await page.getByLabel("Period").selectOption({ label: "Last 7 days" });
  await page.getByRole("img", { name: "Tokens by model" }).waitFor();
  await shot(page, "accounts-keys");
  await checkA11y(page, "keys");

  // Revoke, after a confirmation: the list says so live, and the key is refused.
  await row.getByRole("button", { name: "Revoke Build server" }).click();
  await page.getByRole("dialog", { name: "Revoke this key?" }).getByRole("button", { name: "Revoke key" }).click();
  await row.getByText("revoked").waitFor();
  const refused = await page.request.get("/v1/models", { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(refused.status(), 401, "a revoked key is refused");
  await shot(page, "accounts-key-revoked");

  // The list is live: a key made elsewhere (by a script, with the session) appears unasked.
  const made = await page.request.post("/api/keys", {
    data: { name: "Made by a script" },
    headers: { Origin: new URL(page.url()).origin },
  });
  assert.equal(made.status(), 201);
  await keys.getByRole("cell", { name: "Made by a script", exact: true }).waitFor();

  // A phone, in the dark.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.setViewportSize({ width: 375, height: 812 });
  for (const path of ["/account", "/keys"]) {
    await page.goto(path);
    await page.getByRole("heading", { level: 1 }).waitFor();
    await page.getByRole("table").first().waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `${path} fits a 375 px screen (${width} px wide)`);
    await shot(page, `accounts${path.replace("/", "-")}-phone-dark`);
    await checkA11y(page, `${path} on a phone, dark`);
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1280, height: 800 });

  // Forgot password: the same answer for any address; with the outbox, the mailed link.
  await page.getByRole("banner").getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL((url) => url.pathname === "/sign-in");
  await page.getByRole("link", { name: "Forgot password?" }).click();
  await page.getByRole("heading", { name: "Forgot your password?" }).waitFor();
  await checkA11y(page, "forgot password");
  const seen = outbox ? outboxNow(outbox) : new Set();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send the link" }).click();
  const sent = await page.getByRole("status").filter({ hasText: "If this address has an account" }).innerText();
  await shot(page, "accounts-forgot-password");
  await page.getByRole("button", { name: "Send to another address" }).click();
  await page.getByLabel("Email").fill(uniqueEmail("nobody"));
  await page.getByRole("button", { name: "Send the link" }).click();
  const sentToNobody = await page.getByRole("status").filter({ hasText: "If this address has an account" }).innerText();
  assert.equal(sentToNobody, sent, "an address without an account gets the same answer");

  await page.goto("/reset-password?error=INVALID_TOKEN");
  assert.match(await page.getByRole("alert").innerText(), /invalid or has already been used/);
  await checkA11y(page, "reset password, bad link");

  if (!outbox) {
    console.log("OUTBOX not set: the mailed reset link is not followed");
  } else {
    const link = await waitForMailedLink(outbox, email, "/api/auth/reset-password/", seen);
    await page.goto(link); // the server checks the token and redirects to our page
    await page.waitForURL((url) => url.pathname === "/reset-password" && url.searchParams.has("token"));
    const newPassword = "a brand new passphrase";
    await page.getByLabel("New password", { exact: true }).fill(newPassword);
    await page.getByLabel("Repeat the new password").fill(newPassword);
    await checkA11y(page, "reset password");
    await page.getByRole("button", { name: "Set the new password" }).click();
    await page.getByText("Your new password is set.").waitFor();
    await shot(page, "accounts-password-reset");

    // The link is spent: opened again, the page says so.
    await page.goto(link);
    await page.waitForURL((url) => url.searchParams.get("error") === "INVALID_TOKEN");
    assert.match(await page.getByRole("alert").innerText(), /invalid or has already been used/);

    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(newPassword);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((url) => url.pathname === "/chat");
  }
  forgetExpectedFailures(errors, 400); // the spent reset link's check
  assert.deepEqual(errors, [], "console errors, CSP violations or missing assets");
});
