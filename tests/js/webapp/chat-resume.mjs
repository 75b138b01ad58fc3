// An answer belongs to the server, not to the page: reloading in the middle of an answer
// picks it up again and it completes (still streaming after the reload, nothing repeated);
// a network drop in the middle of an answer shows "connection lost" and, back online, the
// page resumes without losing the answer, also when it ended while the page was offline.
import assert from "node:assert/strict";

import {
  answerLengths,
  answers,
  openChat,
  partialLengths,
  recordAnswerLengths,
  send,
  sessionIdOf,
  slowQuestion,
  storedMessages,
  waitForAnswer,
  waitForAnswerLength,
  waitForStoredAnswer,
} from "./chat-helpers.mjs";
import { checkA11y, flow, shot, signUp } from "./lib.mjs";

await flow("chat-resume", async ({ context, page }) => {
  await recordAnswerLengths(context);
  await signUp(page);
  await openChat(page);

  // --- reload in the middle of a long answer -----------------------------------------------
  const long = slowQuestion(150, 40);
  await send(page, long.question);
  await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  const sessionId = sessionIdOf(page);
  await waitForAnswerLength(page, 1, 40);
  await page.reload();
  await page.getByRole("button", { name: "Stop" }).waitFor(); // still being written
  await shot(page, "chat-resumed-after-reload");
  await waitForAnswer(page, long.answer);
  const grew = partialLengths(await answerLengths(page), long.answer.length);
  assert.ok(grew.length >= 2, `after the reload the answer kept growing (lengths seen: ${grew})`);
  assert.equal(await answers(page).count(), 1, "one answer, not a second copy");
  await page.reload();
  await waitForAnswer(page, long.answer); // and it was stored whole
  const stored = await storedMessages(page, sessionId);
  assert.deepEqual(
    stored.map((m) => [m.role, m.status]),
    [
      ["user", "complete"],
      ["assistant", "complete"],
    ],
  );

  // --- the network drops mid-answer, and comes back --------------------------------------------
  const second = slowQuestion(150, 40, "second");
  await send(page, second.question);
  await waitForAnswerLength(page, 2, 40);
  await context.setOffline(true);
  const lost = page.getByRole("alert").filter({ hasText: "Connection lost" });
  await lost.waitFor();
  assert.ok(await page.getByRole("button", { name: "Resume" }).isVisible());
  await shot(page, "chat-connection-lost");
  await checkA11y(page, "chat, connection lost");
  await context.setOffline(false);
  await lost.waitFor({ state: "detached" });
  await waitForAnswer(page, second.answer);
  assert.equal(await answers(page).count(), 2);

  // --- offline until the answer has ended on the server: read from the stored answer --------
  const third = slowQuestion(40, 30, "third");
  await send(page, third.question);
  await waitForAnswerLength(page, 3, 40);
  await context.setOffline(true);
  await lost.waitFor();
  await waitForStoredAnswer(page, sessionId); // page.request is not offline: the API's view
  await context.setOffline(false);
  await waitForAnswer(page, third.answer);
  assert.equal(await answers(page).count(), 3);
  await shot(page, "chat-recovered");
});
