// The browser-test harness of the web app: Chromium (Debian's package) driven by
// playwright-core, against a real `everything-app serve` started by tests/webapp (pytest).
// A flow is a plain ES module run with `node`; it exits non-zero with a clear message when
// something fails. See docs/development.md ("Browser tests").
//
// Environment (set by tests/webapp's run_flow):
//   BASE_URL        the server, e.g. http://127.0.0.1:41234 (required)
//   SCREENSHOT_DIR  where shot() writes (default artifacts/screenshots)
//   CHROMIUM        the browser binary (default /usr/bin/chromium)

import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export function baseURL() {
  const url = process.env.BASE_URL;
  if (!url) throw new Error("BASE_URL is not set (the server this flow runs against)");
  return url.replace(/\/$/, "");
}

export function screenshotDir() {
  return process.env.SCREENSHOT_DIR || "artifacts/screenshots";
}

/** Headless Chromium (CHROMIUM, else /usr/bin/chromium). */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox"],
  });
}

/** A new browser context (its own cookies: one user, one "browser profile") on BASE_URL, so
 * `page.goto("/chat")` works. Two contexts are two users, or one user's two devices. */
export async function newContext(browser, options = {}) {
  return browser.newContext({ baseURL: baseURL(), ...options });
}

/** Every console error, uncaught exception, CSP violation ("Refused to ...") and failed
 * (4xx/5xx) load of a file of the app (/assets/) seen on `page`, as readable lines; a flow
 * asserts it stays empty. */
export function collectErrors(page) {
  const errors = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const where = message.location()?.url;
    errors.push(`console: ${message.text()}${where ? ` (${where})` : ""}`);
  });
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  page.on("response", (response) => {
    const url = new URL(response.url());
    if (url.pathname.startsWith("/assets/") && response.status() >= 400) {
      errors.push(`asset ${url.pathname}: HTTP ${response.status()}`);
    }
  });
  return errors;
}

/** Sign a user up through the API, in `page`'s context: the session cookie lands there, so
 * the page is signed in on its next load. (A flow that tests signing up uses the UI.) */
export async function signUp(page, { name = "Test User", email = uniqueEmail(), password = "correct horse battery" } = {}) {
  const response = await page.request.post("/api/auth/sign-up/email", {
    data: { name, email, password },
    headers: { Origin: baseURL() },
  });
  if (response.status() !== 200) {
    throw new Error(`sign-up of ${email} failed: HTTP ${response.status()} ${await response.text()}`);
  }
  return { ...(await response.json()), email, password, name };
}

/** A full-page screenshot, `${SCREENSHOT_DIR}/${name}.png`; returns its path. */
export async function shot(page, name) {
  const dir = screenshotDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** axe-core on the page as it is now; throws listing every serious or critical violation.
 * axe is injected with page.evaluate, which the page's CSP does not apply to. */
export async function checkA11y(page, name) {
  const injected = await page.evaluate(() => typeof window.axe !== "undefined");
  if (!injected) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ["violations"] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((node) => node.target.join(" ")),
    }));
  });
  const blocking = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (blocking.length > 0) {
    const lines = blocking.map((v) => `  - ${v.id} (${v.impact}): ${v.help}\n      at ${v.nodes.join(", ")}`);
    throw new Error(`accessibility (${name}): ${blocking.length} serious/critical violation(s)\n${lines.join("\n")}`);
  }
  return violations;
}

/** Sign in through the API in `page`'s context (the cookie lands there). */
export async function signIn(page, email, password) {
  const response = await page.request.post("/api/auth/sign-in/email", {
    data: { email, password },
    headers: { Origin: baseURL() },
  });
  if (response.status() !== 200) {
    throw new Error(`sign-in of ${email} failed: HTTP ${response.status()} ${await response.text()}`);
  }
}

/** Another browser (its own cookies) with one page whose errors are collected. */
export async function openPage(browser, options = {}) {
  const context = await newContext(browser, options);
  const page = await context.newPage();
  return { context, page, errors: collectErrors(page) };
}

export function uniqueEmail(prefix = "user") {
  return `${prefix}-${randomUUID().slice(0, 10)}@example.com`;
}

/** Run a flow: launches Chromium, opens a context and a page (errors collected), calls
 * `body({ browser, context, page, errors })`, and closes everything. On failure it saves
 * `${name}-failure.png` of every open page, prints the error and exits 1; else exits 0. */
export async function flow(name, body) {
  const browser = await launchBrowser();
  let context;
  try {
    context = await newContext(browser);
    const page = await context.newPage();
    const errors = collectErrors(page);
    await body({ browser, context, page, errors });
    console.log(`flow ${name}: passed`);
    process.exitCode = 0;
  } catch (error) {
    console.error(`flow ${name}: FAILED\n${error?.stack ?? error}`);
    for (const [index, page] of (context?.pages() ?? []).entries()) {
      try {
        console.error(`  screenshot: ${await shot(page, `${name}-failure-${index}`)} (${page.url()})`);
      } catch {
        // a page that cannot be shot (closed, crashed) must not hide the error itself
      }
    }
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}
