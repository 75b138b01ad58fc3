// Time to interactive of a page (bench/webapp.py runs it): from navigation start to when
// the element SELECTOR is enabled, visible and takes focus, over RUNS cold loads (a new
// context each: an empty HTTP cache, the session cookie of one user signed up once).
// Prints one JSON line: {"path": ..., "ms": [...]}.
import { launchBrowser, newContext, signUp } from "./lib.mjs";

const path = process.env.TTI_PATH || "/chat";
const selector = process.env.TTI_SELECTOR || '[data-testid="chat-input"]';
const runs = Number(process.env.TTI_RUNS || 5);

const browser = await launchBrowser();
try {
  const first = await newContext(browser);
  await signUp(await first.newPage(), { name: "Bench" });
  const storageState = await first.storageState();
  await first.close();
  const ms = [];
  for (let run = 0; run < runs; run++) {
    const context = await newContext(browser, { storageState });
    const page = await context.newPage();
    await page.goto(path, { waitUntil: "commit" });
    // performance.now() counts from the navigation's start; polled every animation frame.
    const handle = await page
      .waitForFunction(
        (wanted) => {
          const element = document.querySelector(wanted);
          if (!element || element.disabled || !element.checkVisibility()) return false;
          element.focus();
          return document.activeElement === element ? performance.now() : false;
        },
        selector,
        { polling: "raf", timeout: 30_000 },
      )
      .catch((error) => {
        throw new Error(`${selector} never became enabled and focusable on ${path}: ${error.message}`);
      });
    ms.push(await handle.jsonValue());
    await context.close();
  }
  console.log(JSON.stringify({ path, ms }));
} finally {
  await browser.close();
}
