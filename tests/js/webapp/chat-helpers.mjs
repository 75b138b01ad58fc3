// Helpers of the chat flows (chat.mjs, chat-resume.mjs, chat-errors.mjs). The server runs
// with an OpenAI stand-in as its default model "echo" (tests/webapp/test_chat.py): it
// answers "Echo: <question>", and `[[slow:MS]]` in a question makes it stream one word per
// chunk MS ms apart (a long answer to reload or cut in the middle of); "offline" is the
// built-in assistant that turns planner sentences into tool calls.
import assert from "node:assert/strict";

import { signUp } from "./lib.mjs";

export const words = (count, prefix = "word") => Array.from({ length: count }, (_, i) => `${prefix}${i}`).join(" ");

/** A question the stand-in answers slowly, one word per chunk; and its whole answer. */
export function slowQuestion(ms, count, prefix = "word") {
  const question = `[[slow:${ms}]] ${words(count, prefix)}`;
  return { question, answer: `Echo: ${question}`, last: `${prefix}${count - 1}` };
}

/** Every length the newest answer's text had, as the page showed it (a MutationObserver
 * from before the app's first script): proof an answer streamed in rather than appeared. */
export async function recordAnswerLengths(context) {
  await context.addInitScript(() => {
    window.__answerLengths = [];
    new MutationObserver(() => {
      const all = document.querySelectorAll('[data-testid="answer-text"]');
      const length = all.length ? all[all.length - 1].textContent.length : 0;
      const seen = window.__answerLengths;
      if (seen[seen.length - 1] !== length) seen.push(length);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
}

export const answerLengths = (page) => page.evaluate(() => window.__answerLengths.slice());
export const resetAnswerLengths = (page) => page.evaluate(() => (window.__answerLengths = []));

/** Lengths seen strictly between nothing and the whole answer: the answer growing. */
export function partialLengths(lengths, whole) {
  return [...new Set(lengths.filter((length) => length > 0 && length < whole))];
}

export async function openChat(page, path = "/chat") {
  await page.goto(path);
  await page.getByTestId("chat-input").waitFor();
}

export async function signedInChat(context) {
  const page = await context.newPage();
  const user = await signUp(page);
  await openChat(page);
  return { page, user };
}

/** Type a question and press Enter, once the page takes one (not while an answer streams:
 * Enter then does nothing and the text waits in the box). */
export async function send(page, text) {
  const input = page.getByTestId("chat-input");
  await input.fill(text);
  await page.waitForFunction(() => {
    const button = [...document.querySelectorAll("button[type=submit]")].find((b) => b.textContent === "Send");
    return button && !button.disabled;
  });
  await input.press("Enter");
}

export const answers = (page) => page.getByTestId("answer-text");

/** Until the newest answer's text is `text` (the answer complete, nothing repeated). */
export async function waitForAnswer(page, text, timeout = 30_000) {
  await page.waitForFunction(
    (expected) => {
      const all = document.querySelectorAll('[data-testid="answer-text"]');
      return all.length > 0 && all[all.length - 1].textContent === expected;
    },
    text,
    { timeout },
  );
}

/** Until the page shows `count` answers, the newest with at least `length` characters (the
 * count tells a new answer from the one before it). */
export async function waitForAnswerLength(page, count, length) {
  await page.waitForFunction(
    ([expected, min]) => {
      const all = document.querySelectorAll('[data-testid="answer-text"]');
      return all.length === expected && all[all.length - 1].textContent.length >= min;
    },
    [count, length],
  );
}

export function sessionIdOf(page) {
  const match = new URL(page.url()).pathname.match(/^\/chat\/([0-9a-f-]{36})$/);
  assert.ok(match, `the address names the session: ${page.url()}`);
  return match[1];
}

/** The stored messages of a session (the API, not the page). */
export async function storedMessages(page, sessionId) {
  const response = await page.request.get(`/api/chat/messages?sessionId=${sessionId}&limit=200`);
  assert.equal(response.status(), 200, await response.text());
  return (await response.json()).data;
}

/** Until the session's newest answer is stored as finished: polls the API (the server's
 * record, not a guess at how long generating takes). */
export async function waitForStoredAnswer(page, sessionId, status = "complete") {
  for (;;) {
    const messages = await storedMessages(page, sessionId);
    const last = messages[messages.length - 1];
    if (last?.role === "assistant" && last.status !== "streaming") {
      assert.equal(last.status, status, `stored answer: ${JSON.stringify(last)}`);
      return last;
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // polling interval, not a wait for an outcome
  }
}

/** Until no CSS transition runs (colours after a theme switch), so a screenshot and the
 * contrast check see the page as it settles. */
export async function settled(page) {
  await page.waitForFunction(() => document.getAnimations().length === 0);
}
