// The planner page (/planner): create an event, a task and an expense through the page and
// see them in the tables and on the dashboard (today's events, open tasks, the month's spending
// by category); edit a task inline, complete it, delete the expense; the server's validation
// messages next to the field. Live: a second tab of the same browser sees a task made in the
// first tab, one made through the API and one made by chat, with no reload. The browser runs in
// a zone far from UTC (UTC+14), so "today" must be the browser's day, not the server's.
// Screenshots light and dark, desktop and 375 px wide, each checked with axe.
import assert from "node:assert/strict";

import { baseURL, checkA11y, flow, newContext, shot, signUp } from "./lib.mjs";

const ZONE = "Pacific/Kiritimati"; // UTC+14: its "today" is not UTC's for 14 hours a day
const TIMEOUT = 10_000;

// The browser shows resources refused with 4xx as console errors; these are the ones the flow
// provokes on purpose (validation errors).
const expected = (line) => /status of 422/.test(line);

/** `YYYY-MM-DD` of the browser's today and yesterday, in its own zone. */
async function browserDays(page) {
  return page.evaluate(() => {
    const iso = (d) =>
      `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    const now = new Date();
    return { today: iso(now), yesterday: iso(new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1)) };
  });
}

/** The text of the element that describes `input` (its error, through aria-describedby). */
async function descriptionOf(input) {
  const id = await input.getAttribute("aria-describedby");
  assert.ok(id, "the field has a description (its error)");
  return input.page().locator(`[id="${id}"]`).innerText();
}

/** POST to the API as the page's user (the cookie; Origin for the CSRF check). */
async function post(page, path, data) {
  const response = await page.request.post(path, { data, headers: { Origin: baseURL() } });
  assert.ok(response.ok(), `POST ${path}: HTTP ${response.status()} ${await response.text()}`);
  return response.json();
}

async function screens(page, name) {
  for (const [scheme, width] of [
    ["light", 1280],
    ["dark", 1280],
    ["light", 375],
    ["dark", 375],
  ]) {
    await page.emulateMedia({ colorScheme: scheme }); // the theme follows the system by default
    await page.setViewportSize({ width, height: 900 });
    await page.locator(`html${scheme === "dark" ? ".dark" : ":not(.dark)"}`).waitFor();
    // Colours ease in (transition-colors): axe must measure the settled ones.
    await page.waitForFunction(() =>
      document.getAnimations().every((a) => !(a instanceof CSSTransition) || a.playState === "finished"),
    );
    const label = `${name}-${scheme}-${width === 375 ? "phone" : "desktop"}`;
    await shot(page, label);
    await checkA11y(page, label);
    if (width === 375) {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(
        overflow <= 0,
        `${label}: the page is ${overflow}px wider than the screen (tables scroll, not the page)`,
      );
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1280, height: 900 });
}

await flow("planner", async ({ browser }) => {
  const context = await newContext(browser, { timezoneId: ZONE, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  for (const p of [page]) {
    p.on("console", (m) => m.type() === "error" && errors.push(`console: ${m.text()}`));
    p.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
  }
  try {
    await run(context, page);
    assert.deepEqual(
      errors.filter((line) => !expected(line)),
      [],
      "console errors on the planner page",
    );
  } catch (error) {
    for (const [index, open] of context.pages().entries())
      await shot(open, `planner-failure-tab${index}`).catch(() => {});
    throw error;
  } finally {
    await context.close();
  }
});

async function run(context, page) {
  await signUp(page, { name: "Pat Planner" });
  const { today, yesterday } = await browserDays(page);

  // Yesterday evening in the browser's zone: the server's "today" perhaps, never the page's.
  await post(page, "/api/events", {
    title: "Yesterday's dinner",
    start_time: `${yesterday}T20:00:00+14:00`,
    end_time: `${yesterday}T21:00:00+14:00`,
  });

  await page.goto("/planner");
  await page.getByRole("heading", { level: 1, name: "Planner" }).waitFor();
  const todayCard = page.getByRole("region", { name: "Today" });
  const openCard = page.getByRole("region", { name: "Open tasks" });
  const spending = page.getByRole("region", { name: "Spending by category" });
  await todayCard.getByText("Nothing planned today.").waitFor({ timeout: TIMEOUT });
  await openCard.getByText("Nothing to do.").waitFor({ timeout: TIMEOUT });
  await spending.getByText(/No spending in/).waitFor({ timeout: TIMEOUT });
  await screens(page, "planner-empty");

  // A second tab of the same browser (same cookie), watching the tasks table.
  const second = await context.newPage();
  await second.goto("/planner");
  await second.getByRole("tab", { name: "Tasks" }).click();
  const secondTasks = second.getByRole("table", { name: "Tasks" });
  await secondTasks.getByText("No tasks yet.").waitFor({ timeout: TIMEOUT });
  // The first tab acts; a background tab gets few animation frames, which Playwright's
  // clicks wait for. The second tab, in the background, still hears the socket.
  await page.bringToFront();

  // --- an event for today (the browser's today), through the form ---
  const eventForm = page.getByRole("form", { name: "New event" });
  await eventForm.getByLabel("Title").fill("Standup");
  await eventForm.getByLabel("Starts").fill(`${today}T00:30`);
  await eventForm.getByLabel("Ends").fill(`${today}T01:00`);
  await eventForm.getByRole("button", { name: "Add event" }).click();
  const events = page.getByRole("table", { name: "Events" });
  await events.getByRole("cell", { name: "Standup", exact: true }).waitFor({ timeout: TIMEOUT });
  await todayCard.getByText("Standup").waitFor({ timeout: TIMEOUT });
  assert.equal(await todayCard.getByText("Yesterday's dinner").count(), 0, "yesterday's event is not today's");
  assert.equal(await eventForm.getByLabel("Title").inputValue(), "", "the form is emptied after a create");

  // An end before the start: the server's rule over two fields, shown for the form.
  await eventForm.getByLabel("Title").fill("Backwards");
  await eventForm.getByLabel("Starts").fill(`${today}T10:00`);
  await eventForm.getByLabel("Ends").fill(`${today}T09:00`);
  await eventForm.getByRole("button", { name: "Add event" }).click();
  await eventForm.getByRole("alert").getByText("end_time must be after start_time").waitFor({ timeout: TIMEOUT });
  await eventForm.getByLabel("Title").fill("");

  // --- a task, through the form: it appears here, on the dashboard and in the other tab ---
  await page.getByRole("tab", { name: "Tasks" }).click();
  const taskForm = page.getByRole("form", { name: "New task" });
  await taskForm.getByLabel("Title").fill("Pay rent");
  await taskForm.getByLabel("Due (optional)").fill(`${today}T23:00`);
  await taskForm.getByRole("button", { name: "Add task" }).click();
  const tasks = page.getByRole("table", { name: "Tasks" });
  await tasks.getByRole("cell", { name: "Pay rent", exact: true }).waitFor({ timeout: TIMEOUT });
  await openCard.getByText("Pay rent").waitFor({ timeout: TIMEOUT });
  await secondTasks.getByRole("cell", { name: "Pay rent", exact: true }).waitFor({ timeout: TIMEOUT });

  // Live from elsewhere: the API, and chat's planner tool (the offline model's sentence form).
  await post(page, "/api/tasks", { title: "Renew the passport" });
  await secondTasks.getByRole("cell", { name: "Renew the passport", exact: true }).waitFor({ timeout: TIMEOUT });
  const chat = await post(page, "/api/chat", { message: "remind me to water the plants", stream: false });
  assert.match(chat.messages.at(-1).text, /water the plants/, "chat says what it did");
  await secondTasks.getByRole("cell", { name: "water the plants", exact: true }).waitFor({ timeout: TIMEOUT });
  await second.getByRole("region", { name: "Open tasks" }).getByText("water the plants").waitFor({ timeout: TIMEOUT });
  // Soonest due first: the dated task leads the undated ones.
  assert.match(await openCard.getByRole("listitem").first().innerText(), /Pay rent/);

  // --- an expense: first an invalid amount, the server's message next to the field ---
  await page.getByRole("tab", { name: "Expenses" }).click();
  const expenseForm = page.getByRole("form", { name: "New expense" });
  const amount = expenseForm.getByLabel("Amount");
  await amount.fill("12.345");
  await expenseForm.getByLabel("Category").fill("Food");
  await expenseForm.getByRole("button", { name: "Add expense" }).click();
  await expenseForm.getByText("Decimal input should have no more than 2 decimal places").waitFor({ timeout: TIMEOUT });
  assert.equal(await amount.getAttribute("aria-invalid"), "true");
  assert.equal(await descriptionOf(amount), "Decimal input should have no more than 2 decimal places");
  await shot(page, "planner-expense-invalid");
  await amount.fill("12.50");
  await expenseForm.getByRole("button", { name: "Add expense" }).click();
  const expenses = page.getByRole("table", { name: "Expenses" });
  await expenses.getByRole("cell", { name: "Food", exact: true }).waitFor({ timeout: TIMEOUT });
  // The chart's table: categories grouped ignoring case, exact to the cent.
  await post(page, "/api/expenses", { amount: "0.10", category: "food" });
  await post(page, "/api/expenses", { amount: "0.20", category: "FOOD" });
  await spending.getByRole("row", { name: "food 12.80" }).waitFor({ timeout: TIMEOUT });
  assert.equal(await spending.getByTestId("month-total").innerText(), "12.80");

  await page.getByRole("tab", { name: "Tasks" }).click();
  await screens(page, "planner-filled");

  // --- edit a task's title inline ---
  await tasks.getByRole("button", { name: "Edit task Pay rent" }).click();
  const title = tasks.getByRole("textbox", { name: "Title" });
  await title.fill("");
  await tasks.getByRole("button", { name: "Save" }).click();
  await tasks.getByText("String should have at least 1 character").waitFor({ timeout: TIMEOUT });
  assert.equal(await descriptionOf(title), "String should have at least 1 character");
  await title.fill("Pay the rent");
  await tasks.getByRole("button", { name: "Save" }).click();
  await tasks.getByRole("cell", { name: "Pay the rent", exact: true }).waitFor({ timeout: TIMEOUT });
  await secondTasks.getByRole("cell", { name: "Pay the rent", exact: true }).waitFor({ timeout: TIMEOUT });
  await openCard.getByText("Pay the rent").waitFor({ timeout: TIMEOUT });

  // --- complete it: ticked in the table, gone from the open tasks, in both tabs ---
  await tasks.getByRole("checkbox", { name: "Done: Pay the rent" }).check();
  await openCard.getByText("Pay the rent").waitFor({ state: "detached", timeout: TIMEOUT });
  await second
    .getByRole("region", { name: "Open tasks" })
    .getByText("Pay the rent")
    .waitFor({ state: "detached", timeout: TIMEOUT });
  assert.ok(await secondTasks.getByRole("checkbox", { name: "Done: Pay the rent" }).isChecked());
  // ... and undone again.
  await tasks.getByRole("checkbox", { name: "Done: Pay the rent" }).uncheck();
  await openCard.getByText("Pay the rent").waitFor({ timeout: TIMEOUT });
  await tasks.getByRole("checkbox", { name: "Done: Pay the rent" }).check();
  await openCard.getByText("Pay the rent").waitFor({ state: "detached", timeout: TIMEOUT });

  // --- delete the expense, after a confirmation ---
  await page.getByRole("tab", { name: "Expenses" }).click();
  await expenses.getByRole("button", { name: "Delete expense 12.50 on Food" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete this expense?" });
  await confirm.getByRole("button", { name: "Delete" }).click();
  await expenses.getByRole("cell", { name: "Food", exact: true }).waitFor({ state: "detached", timeout: TIMEOUT });
  // The row and its button are gone: keyboard focus lands on the table's panel, not the page top.
  await page.waitForFunction(() => document.activeElement?.id === "planner-panel-expenses", null, { timeout: TIMEOUT });
  await spending.getByRole("row", { name: "food 0.30" }).waitFor({ timeout: TIMEOUT });
  assert.equal(await spending.getByTestId("month-total").innerText(), "0.30");

  // Another month has nothing: the month picker re-reads the spending.
  await spending.getByLabel("Month").fill(`${Number(today.slice(0, 4)) - 1}-01`);
  await spending.getByText(/No spending in January/).waitFor({ timeout: TIMEOUT });

  await second.close();
}
