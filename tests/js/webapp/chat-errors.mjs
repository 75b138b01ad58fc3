// What a person meets when something goes wrong in the chat: a refused question (429 with
// Retry-After) shows the server's words and keeps the typed text; a model failing mid-answer
// shows its error and keeps the partial answer; Stop ends an answer on the server too.
import assert from "node:assert/strict";

import {
  answers,
  openChat,
  send,
  sessionIdOf,
  slowQuestion,
  waitForAnswer,
  waitForAnswerLength,
  waitForStoredAnswer,
  words,
} from "./chat-helpers.mjs";
import { checkA11y, flow, shot, signUp } from "./lib.mjs";

await flow("chat-errors", async ({ page, errors }) => {
  await signUp(page);
  await openChat(page);
  const input = page.getByTestId("chat-input");

  // --- a model failing in the middle of an answer ------------------------------------------------
  await send(page, "[[error]] tell me something");
  const failure = page.getByRole("alert").filter({ hasText: "error during the answer" });
  await failure.waitFor();
  await waitForAnswer(page, "Partial answer"); // what came before the failure is kept
  await page.getByRole("button", { name: "Regenerate" }).waitFor();
  await shot(page, "chat-model-error");
  await checkA11y(page, "chat, model error");
  const sessionId = sessionIdOf(page);
  await waitForStoredAnswer(page, sessionId, "error");

  // --- Stop: the server stops writing, and keeps what it wrote ---------------------------------
  const slow = slowQuestion(150, 40);
  await send(page, slow.question);
  await waitForAnswerLength(page, 2, 30);
  await page.getByRole("button", { name: "Stop" }).click();
  await page.getByText("Stopped.").waitFor();
  await page.getByRole("button", { name: "Regenerate" }).waitFor(); // the stream has ended
  const kept = await waitForStoredAnswer(page, sessionId, "canceled");
  assert.ok(kept.content.length < slow.answer.length, "the answer was cut short");
  assert.equal(await answers(page).last().textContent(), kept.content, "the page shows what was kept");
  await shot(page, "chat-stopped");

  // --- too many answers at once: 429 with Retry-After, and the question is not lost ------------
  // Three answers streaming (the default CHAT_MAX_CONCURRENT_STREAMS) in other chats; the
  // server goes on writing them after their readers leave.
  await page.evaluate(async (question) => {
    for (let i = 0; i < 3; i++) {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ content: question }),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      await response.body.cancel();
    }
  }, `[[slow:500]] ${words(40)}`);
  const typed = "What is on my list?\nAnd on Friday?";
  await input.fill(typed);
  await page.getByRole("button", { name: "Send" }).click();
  const refused = page.getByRole("alert").filter({ hasText: "Too many answers are streaming at once" });
  await refused.waitFor();
  assert.match(await refused.textContent(), /Try again in \d+ s\./, "Retry-After, in words");
  assert.equal(await input.inputValue(), typed, "the typed text is kept");
  const sent = page.getByRole("article", { name: "You" }).filter({ hasText: "What is on my list?" });
  assert.equal(await sent.count(), 0, "the refused question is not shown as sent");
  await shot(page, "chat-rate-limited");
  await checkA11y(page, "chat, refused");
  await page.getByRole("button", { name: "Dismiss" }).click();
  await refused.waitFor({ state: "detached" });

  // The browser logs each refused request (429) itself; nothing else may be logged.
  assert.deepEqual(
    errors.filter((line) => !line.includes("status of 429")),
    [],
    "console errors",
  );
});
