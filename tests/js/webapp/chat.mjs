// The chat page, the way a person uses it: an answer streams in (seen growing), the address
// names the chat, a reload shows the history, a planner sentence makes a task shown as a
// card, regenerate, older messages load on scrolling up without a jump, rename and delete;
// screenshots (light, dark, phone) and accessibility checks on the way.
import assert from "node:assert/strict";

import {
  answerLengths,
  answers,
  openChat,
  partialLengths,
  recordAnswerLengths,
  resetAnswerLengths,
  send,
  sessionIdOf,
  settled,
  slowQuestion,
  waitForAnswer,
} from "./chat-helpers.mjs";
import { checkA11y, flow, newContext, shot, signUp } from "./lib.mjs";

await flow("chat", async ({ browser, context, page, errors }) => {
  await recordAnswerLengths(context);
  await signUp(page);
  await openChat(page);
  await page.getByText("Start a conversation").waitFor();
  const model = page.getByLabel("Model");
  // The models load from /api/models; the default one is chosen and marked.
  await model.locator("option:checked", { hasText: "(default)" }).waitFor({ state: "attached" });
  assert.equal(await model.inputValue(), "echo");
  await shot(page, "chat-empty");
  await checkA11y(page, "chat, empty");

  // Shift+Enter is a new line; Enter sends.
  const input = page.getByTestId("chat-input");
  await input.pressSequentially("line one");
  await input.press("Shift+Enter");
  await input.pressSequentially("line two");
  assert.equal(await input.inputValue(), "line one\nline two");
  assert.equal(await page.locator("article").count(), 0, "Shift+Enter does not send");
  await input.fill("");

  // --- an answer streams in -----------------------------------------------------------------
  const { question, answer } = slowQuestion(60, 30);
  await resetAnswerLengths(page);
  await send(page, question);
  await page.getByRole("button", { name: "Stop" }).waitFor();
  await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  const sessionId = sessionIdOf(page);
  await shot(page, "chat-streaming");
  await waitForAnswer(page, answer);
  const partial = partialLengths(await answerLengths(page), answer.length);
  assert.ok(partial.length >= 3, `the answer grew on screen (lengths seen: ${partial})`);
  await page.getByRole("button", { name: "Regenerate" }).waitFor();
  assert.equal(await page.getByTestId("chat-input").inputValue(), "", "the box is empty after sending");

  // --- a reload shows the history -----------------------------------------------------------
  await page.reload();
  await waitForAnswer(page, answer);
  assert.equal(sessionIdOf(page), sessionId);
  assert.deepEqual(await page.getByRole("article", { name: "You" }).locator("p").nth(1).textContent(), question);
  assert.equal(await answers(page).count(), 1);
  const title = question.slice(0, 20);
  await page.getByRole("link", { name: new RegExp(title.replace(/[[\]]/g, "\\$&")) }).waitFor();
  await shot(page, "chat-history");

  // --- a planner sentence makes a task, shown as a card -------------------------------------
  await model.selectOption("offline");
  await send(page, "remind me to buy milk tomorrow");
  const card = page.getByRole("heading", { name: "Task added" });
  await card.waitFor();
  await page.getByText("buy milk", { exact: true }).waitFor();
  const planner = page.getByRole("link", { name: "Open the planner" }).last();
  assert.equal(await planner.getAttribute("href"), "/planner");
  await page.getByRole("button", { name: "Regenerate" }).waitFor();
  await shot(page, "chat-task-card");
  await checkA11y(page, "chat, task card");
  const tasks = await (await page.request.get("/api/tasks")).json();
  assert.deepEqual(
    tasks.data.map((task) => task.title),
    ["buy milk"],
    "the task was made",
  );

  // --- regenerate the last answer: replaced, and the task is not made twice -----------------
  const before = await page.locator("article").count();
  const regenerated = page.waitForResponse(
    (response) => response.request().method() === "POST" && new URL(response.url()).pathname === "/api/chat",
  );
  await page.getByRole("button", { name: "Regenerate" }).click();
  await (await regenerated).finished(); // the whole new answer has arrived
  await page.getByRole("button", { name: "Regenerate" }).waitFor(); // and the page has it
  await card.last().waitFor();
  assert.equal(await page.locator("article").count(), before, "regenerate replaces the answer");
  const again = await (await page.request.get("/api/tasks")).json();
  assert.equal(again.data.length, 1, "a regenerated answer does not repeat the tool's write");

  // --- rename in place ----------------------------------------------------------------------
  await page.getByRole("button", { name: /^Rename/ }).first().click();
  const titleBox = page.getByLabel("New title");
  await titleBox.fill("Shopping");
  await titleBox.press("Enter");
  await page.getByRole("heading", { level: 1, name: "Shopping" }).waitFor();
  await page.getByRole("link", { name: /Shopping/ }).waitFor();

  // --- dark, and a phone ---------------------------------------------------------------------
  await page.evaluate(() => document.documentElement.classList.add("dark"));
  await settled(page);
  await shot(page, "chat-dark");
  await checkA11y(page, "chat, dark");
  await page.evaluate(() => document.documentElement.classList.remove("dark"));
  await settled(page);
  await page.setViewportSize({ width: 375, height: 740 });
  const toggle = page.getByRole("button", { name: "Chats" });
  await toggle.waitFor();
  assert.equal(await page.getByRole("link", { name: /Shopping/ }).isVisible(), false, "the list is folded away");
  await shot(page, "chat-phone");
  await toggle.click();
  await page.getByRole("link", { name: /Shopping/ }).waitFor();
  await shot(page, "chat-phone-list");
  await checkA11y(page, "chat, phone, chats list");
  await page.getByRole("button", { name: "Hide chats" }).click();
  await page.setViewportSize({ width: 1280, height: 800 });

  // --- delete, after confirming ---------------------------------------------------------------
  await page.getByRole("button", { name: "Delete “Shopping”" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete this chat?" });
  await dialog.waitFor();
  await shot(page, "chat-delete-confirm");
  await dialog.getByRole("button", { name: "Delete" }).click();
  await page.getByText("No chats yet.").waitFor();
  await page.waitForURL(/\/chat$/);
  assert.equal((await page.request.get(`/api/chat/sessions/${sessionId}`)).status(), 404);
  await page.goto(`/chat/${sessionId}`);
  await page.getByText("This chat does not exist, or it was deleted.").waitFor();

  // The one error expected: the browser's own log line for the deleted chat's 404.
  assert.deepEqual(
    errors.filter((line) => !line.includes("status of 404")),
    [],
    "console errors",
  );

  // --- seed 001's infinite scroll: older messages load at the top without a jump ------------
  const reader = await newContext(browser, { viewport: { width: 1280, height: 800 } });
  const scroller = await reader.newPage();
  await signUp(scroller);
  await openChat(scroller);
  const longChat = await scroller.evaluate(async () => {
    let sessionId;
    for (let turn = 0; turn < 20; turn++) {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ message: `question number ${turn}`, model: "offline", session_id: sessionId }),
      });
      if (!response.ok) throw new Error(`turn ${turn}: HTTP ${response.status} ${await response.text()}`);
      sessionId = (await response.json()).session_id;
    }
    return sessionId;
  });
  await openChat(scroller, `/chat/${longChat}`);
  await scroller.getByText("question number 19", { exact: true }).waitFor();
  const articles = scroller.locator("article");
  const firstPage = await articles.count();
  assert.ok(firstPage < 40, `the newest page only (${firstPage} of 40 messages)`);
  const log = scroller.getByRole("log", { name: "Messages" });
  const oldestShown = (await articles.first().locator("p").nth(1).textContent()) ?? "";
  const anchor = scroller.locator("article", { hasText: oldestShown }).first();
  // Where that message sits in the log once scrolled to the top, measured before scrolling
  // (scrolling up is what loads the older page).
  const offsetInLog = async () =>
    anchor.evaluate((element) => {
      const log = element.closest('[role="log"]');
      return element.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop;
    });
  const atTop = await offsetInLog();
  await log.hover();
  await scroller.mouse.wheel(0, -100_000);
  await scroller.waitForFunction((count) => document.querySelectorAll("article").length > count, firstPage);
  await scroller.getByText("Start of the conversation").waitFor();
  const shownAt = await anchor.evaluate((element) => {
    const log = element.closest('[role="log"]');
    return element.getBoundingClientRect().top - log.getBoundingClientRect().top;
  });
  const pushedBy = (await offsetInLog()) - atTop;
  console.log(`older messages: ${firstPage} → 40, ${pushedBy} px above; the message stayed at ${atTop} → ${shownAt} px`);
  assert.ok(pushedBy > 300, "older messages were put above it");
  assert.ok(Math.abs(shownAt - atTop) < 40, `no jump: the message stayed in view where it was (${atTop} → ${shownAt})`);
  assert.equal(await articles.count(), 40);
  await shot(scroller, "chat-older-messages");
  await log.evaluate((element) => element.scrollTo(0, 0));
  await scroller.getByText("question number 0", { exact: true }).last().waitFor();
  await checkA11y(scroller, "chat, long history");
  await reader.close();
});
