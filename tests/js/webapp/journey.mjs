// The whole app, the way a new person meets it, in one run: sign up in the page → a chat
// answer streams in → a reload shows the conversation → a planner sentence in the chat makes
// a task that a second tab's planner shows without a reload → book a slot and check in → the
// administrator's tab (another browser) calls the queue → the person's tab says "It's your
// turn" → an API key is shown once, then only its prefix. Each page's own flow tests its
// details and error paths; this one tests that the pages work together on one server.
//
// Needs (tests/webapp/test_journey.py): ADMIN_EMAIL and ADMIN_PASSWORD of an administrator,
// and a server with RESERVATIONS_AUTO_CONFIRM=true and QUEUE_CHECKIN_EARLY_MINUTES=1440.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import { pickDayWithSlot, slotButton } from "./booking.mjs";
import { answers, send } from "./chat-helpers.mjs";
import { baseURL, checkA11y, flow, openPage, shot, signIn, uniqueEmail } from "./lib.mjs";

const ADMIN_EMAIL = process.env.ADMIN_EMAIL;
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD;
const TIMEOUT = 30_000;
// Open around the clock, every day: the flow books whenever it runs.
const ALL_DAY = Object.fromEntries(
  ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((day) => [day, [{ open: "00:00", close: "24:00" }]]),
);

await flow("journey", async ({ browser, context, page, errors }) => {
  assert.ok(ADMIN_EMAIL && ADMIN_PASSWORD, "ADMIN_EMAIL and ADMIN_PASSWORD are set");
  const email = uniqueEmail("journey");

  // --- a new person signs up in the page ------------------------------------------------
  await page.goto("/");
  await page.waitForURL(/\/sign-in/);
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByLabel("Name").fill("Jo Journey");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await shot(page, "journey-1-sign-up");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/chat/);
  await page.getByTestId("chat-input").waitFor();

  // --- the answer streams in (the AI SDK's UI message stream), then a reload keeps it ---
  const streamed = page.waitForResponse(
    (response) => new URL(response.url()).pathname === "/api/chat" && response.request().method() === "POST",
  );
  await send(page, "Hello! What can you do?");
  const response = await streamed;
  assert.equal(response.status(), 200);
  assert.match(response.headers()["content-type"], /^text\/event-stream/, "the answer is streamed");
  assert.equal(response.headers()["x-vercel-ai-ui-message-stream"], "v1");
  await answers(page).first().waitFor({ timeout: TIMEOUT });
  // Regenerate is offered once the answer is over: read it whole, not mid-stream.
  await page.getByRole("button", { name: "Regenerate" }).waitFor({ timeout: TIMEOUT });
  await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  const answer = (await answers(page).first().innerText()).trim();
  assert.ok(answer.length > 0, "an answer is shown");
  await shot(page, "journey-2-chat-answer");
  await checkA11y(page, "chat with an answer");
  await page.reload();
  await page.getByRole("article", { name: "You" }).getByText("Hello! What can you do?").waitFor({ timeout: TIMEOUT });
  assert.equal((await answers(page).first().innerText()).trim(), answer, "the reload shows the same answer");
  await shot(page, "journey-3-chat-after-reload");

  // --- a planner sentence makes a task; the planner in a second tab shows it, live ------
  const planner = await context.newPage();
  await planner.goto("/planner");
  const openTasks = planner.getByRole("region", { name: "Open tasks" });
  await openTasks.waitFor();
  await page.bringToFront();
  await send(page, "remind me to call the dentist");
  await page.getByRole("heading", { name: "Task added" }).waitFor({ timeout: TIMEOUT }); // the tool's card
  await shot(page, "journey-4-chat-task-card");
  await openTasks.getByText("call the dentist").waitFor({ timeout: TIMEOUT }); // no reload
  await planner.bringToFront();
  await shot(planner, "journey-5-planner-live-task");
  await checkA11y(planner, "planner with the task from chat");

  // --- the administrator (another browser) opens a service; the person books and checks in
  const admin = await openPage(browser);
  await signIn(admin.page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const service = `Clinic ${randomUUID().slice(0, 6)}`;
  const created = await admin.page.request.post("/api/services", {
    data: { name: service, duration_minutes: 30, capacity: 1, timezone: "UTC", opening_hours: ALL_DAY },
    headers: { Origin: baseURL() },
  });
  assert.equal(created.status(), 201, await created.text());
  await page.bringToFront();
  const slot = await pickDayWithSlot(page, service);
  await slotButton(page, slot).click();
  await page.getByRole("button", { name: /^Book / }).click();
  const mine = page.getByRole("region", { name: service, exact: true });
  await mine.getByText("Confirmed").waitFor({ timeout: TIMEOUT });
  await mine.getByRole("button", { name: "Check in" }).click();
  await page.getByTestId("queue-place").getByText("ticket #1").waitFor({ timeout: TIMEOUT });
  await shot(page, "journey-6-booked-and-checked-in");

  // --- the administrator's queue board calls the next person ----------------------------
  await admin.page.goto("/admin/queue");
  await admin.page.getByLabel("Service", { exact: true }).selectOption({ label: service });
  await admin.page.getByRole("list", { name: "Waiting list" }).getByText(email, { exact: false }).waitFor();
  await admin.page.getByRole("button", { name: "Call next" }).click();
  await admin.page.getByTestId("now-serving").getByText(email, { exact: false }).waitFor();
  await shot(admin.page, "journey-7-admin-called");

  // --- the person's tab, without a reload: "It's your turn" -----------------------------
  await page.getByTestId("your-turn").getByText("It's your turn").waitFor({ timeout: TIMEOUT });
  await shot(page, "journey-8-your-turn");

  // --- an API key: shown once, then only its prefix ------------------------------------
  await page.goto("/keys");
  await page.getByLabel("Name").fill("Laptop");
  await page.getByRole("button", { name: "Create key" }).click();
  const dialog = page.getByRole("dialog", { name: "Your new API key" });
  const secret = await dialog.getByRole("textbox", { name: "Laptop" }).inputValue();
  assert.match(secret, /^ea_\S{20,}$/, "the full key is shown once");
  await shot(page, "journey-9-key-shown-once");
  await dialog.getByRole("button", { name: "I have saved it" }).click();
  await dialog.waitFor({ state: "hidden" });
  const row = page.getByRole("region", { name: "Your keys" }).getByRole("row").filter({ hasText: "Laptop" });
  const prefix = (await row.locator("code").innerText()).replace(/…$/, "");
  assert.ok(prefix.length >= 6 && secret.startsWith(prefix), `the list shows the prefix ${prefix}`);
  assert.ok(!(await page.content()).includes(secret), "the key is nowhere in the page any more");
  await page.reload();
  await row.waitFor();
  assert.ok(!(await page.content()).includes(secret), "nor after a reload");
  await shot(page, "journey-10-key-prefix-only");

  assert.deepEqual(errors, [], "no console error, failed load or CSP violation in the person's tab");
  assert.deepEqual(admin.errors, [], "none in the administrator's either");
  await admin.context.close();
});
