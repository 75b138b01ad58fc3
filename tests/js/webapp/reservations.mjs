// Reservations (seed 004) in the browser, the way people use it: an administrator creates a
// service with one place per slot in the admin UI; a user books a slot; a second user, who
// picked the same slot a moment earlier, is told in words that it was just taken and sees it
// full; the first user checks in; the administrator's queue board (another browser) shows
// them and "Call next" calls them; the user's tab, without a reload, says "It's your turn"
// (the page, a toast, the bell). Screenshots and axe checks of the reservations page and of
// each admin section, light and dark, desktop and a 375 px phone.
//
// Needs (set by tests/webapp/test_reservations.py): ADMIN_EMAIL and ADMIN_PASSWORD of an
// administrator (`everything-app create-admin`), and a server with
// RESERVATIONS_AUTO_CONFIRM=true and QUEUE_CHECKIN_EARLY_MINUTES=1440, so a booking is
// confirmed at once and may check in now, whatever the time of day.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import { pickDayWithSlot, slotButton, slotList } from "./booking.mjs";
import { checkA11y, flow, openPage, shot, signIn, signUp, uniqueEmail } from "./lib.mjs";

const ADMIN_EMAIL = process.env.ADMIN_EMAIL;
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD;
const SLOT_TAKEN = "That slot was just taken";
// The browser reports every non-2xx answer as a console error: the 409 of the booking that
// lost the race is expected here, nothing else is.
const expected409 = (line) => /status of 409/.test(line);

await flow("reservations", async ({ browser, page: adminPage, errors: adminErrors }) => {
  assert.ok(ADMIN_EMAIL && ADMIN_PASSWORD, "ADMIN_EMAIL and ADMIN_PASSWORD are set");
  const service = `Front desk ${randomUUID().slice(0, 6)}`;

  // --- the administrator creates a service: 30-minute slots, 1 place, open all day ---------
  await signIn(adminPage, ADMIN_EMAIL, ADMIN_PASSWORD);
  await adminPage.goto("/admin/services");
  await adminPage.getByRole("heading", { name: "Services" }).waitFor();
  await adminPage.getByRole("button", { name: "New service" }).click();
  const form = adminPage.getByRole("dialog", { name: "New service" });
  await form.getByLabel("Name", { exact: true }).fill(service);
  await form.getByLabel("Description").fill("Questions answered, one person at a time.");
  await form.getByLabel("Slot length (minutes)").fill("30");
  await form.getByLabel("Places per slot").fill("1");
  await form.getByLabel("Time zone").fill("UTC");
  await form.getByLabel("Monday opens").fill("00:00");
  await form.getByLabel("Monday closes").fill("00:00"); // 00:00 closes at midnight: all day
  await form.getByRole("button", { name: "Use Monday's hours every day" }).click();
  assert.equal(await form.getByLabel("Sunday closes").inputValue(), "00:00");
  await shot(adminPage, "reservations-admin-service-form");
  await checkA11y(adminPage, "admin: the service form");
  await form.getByRole("button", { name: "Create service" }).click();
  await adminPage.getByRole("cell", { name: service, exact: true }).waitFor();
  assert.ok(await adminPage.getByRole("row", { name: new RegExp(service) }).getByText("Every day 00:00–24:00").isVisible());
  await shot(adminPage, "reservations-admin-services");
  await checkA11y(adminPage, "admin: services");

  // --- two users pick the same slot; the first books it -----------------------------------
  // Uma allowed browser notifications; the page's Notification is wrapped to record them
  // (an init script: the page's CSP does not apply to it).
  const first = await openPage(browser, { permissions: ["notifications"] });
  await first.context.addInitScript(() => {
    window.__notified = [];
    const Real = window.Notification;
    window.Notification = class extends Real {
      constructor(title, options) {
        super(title, options);
        window.__notified.push(title);
      }
    };
  });
  const uma = await signUp(first.page, { name: "Uma Booker", email: uniqueEmail("uma") });
  const second = await openPage(browser);
  const bob = await signUp(second.page, { name: "Bob Late", email: uniqueEmail("bob") });

  const slot = await pickDayWithSlot(first.page, service);
  const day = await first.page.getByLabel("Day", { exact: true }).inputValue();
  await second.page.goto("/reservations");
  await second.page.getByRole("radio", { name: new RegExp(service) }).check();
  await second.page.getByLabel("Day", { exact: true }).fill(day);
  await slotButton(second.page, slot).click(); // still free when Bob picks it
  assert.equal(await slotButton(second.page, slot).getAttribute("aria-pressed"), "true");

  await slotButton(first.page, slot).click();
  await first.page.getByRole("button", { name: /^Book / }).click();
  const mine = first.page.getByRole("region", { name: service, exact: true });
  await mine.getByText("Confirmed").waitFor();
  await first.page.getByTestId("toast").filter({ hasText: "Booked" }).waitFor();
  await shot(first.page, "reservations-booked");
  await checkA11y(first.page, "reservations: booked");

  // --- the second user's booking loses: words, and the slot now shows full --------------
  await second.page.getByRole("button", { name: /^Book / }).click();
  await second.page.getByRole("alert").filter({ hasText: SLOT_TAKEN }).waitFor();
  const taken = slotButton(second.page, slot);
  await taken.filter({ hasText: "Full" }).waitFor();
  assert.ok(await taken.isDisabled(), "a full slot's button is disabled");
  await shot(second.page, "reservations-slot-taken");
  await checkA11y(second.page, "reservations: slot taken");

  // --- the first user checks in and sees their place ------------------------------------
  await mine.getByRole("button", { name: "Check in" }).click();
  const place = first.page.getByTestId("queue-place");
  await place.getByText("ticket #1").waitFor();
  await place.getByText("You are next.").waitFor();
  await shot(first.page, "reservations-checked-in");

  // --- the administrator's queue board shows them; "Call next" calls them ---------------
  await adminPage.goto("/admin/queue");
  await adminPage.getByLabel("Service", { exact: true }).selectOption({ label: service });
  const waiting = adminPage.getByRole("list", { name: "Waiting list" });
  await waiting.getByText(uma.email, { exact: false }).waitFor();
  await shot(adminPage, "reservations-admin-queue");
  await checkA11y(adminPage, "admin: queue board");
  await adminPage.getByRole("button", { name: "Call next" }).click();
  await adminPage.getByTestId("now-serving").getByText(uma.email, { exact: false }).waitFor();
  assert.equal(await waiting.count(), 0, "nobody waits any more");

  // --- in the user's tab, without a reload: "It's your turn" ----------------------------
  const banner = first.page.getByTestId("your-turn");
  await banner.getByText("It's your turn").waitFor();
  await first.page.getByTestId("toast").filter({ hasText: "It's your turn" }).waitFor();
  const bell = first.page.getByRole("button", { name: /^Notifications/ });
  await first.page.getByRole("button", { name: "Notifications, 1 unread" }).waitFor();
  assert.deepEqual(await first.page.evaluate(() => window.__notified), ["It's your turn"], "a browser notification");
  await shot(first.page, "reservations-your-turn");
  await bell.click();
  assert.equal(await bell.getAttribute("aria-expanded"), "true");
  const panel = first.page.getByRole("region", { name: "Notifications" });
  await panel.getByText(`It is your turn: ${service}`).waitFor();
  await shot(first.page, "reservations-bell-open");
  await checkA11y(first.page, "reservations: your turn, the bell open");
  assert.equal(await panel.getByRole("button", { name: "Enable browser notifications" }).count(), 0, "already allowed");
  await panel.getByRole("button", { name: /^Mark read/ }).click();
  await first.page.getByRole("button", { name: "Notifications", exact: true }).waitFor();
  await first.page.keyboard.press("Escape");
  assert.equal(await bell.getAttribute("aria-expanded"), "false", "Escape closes the list");
  assert.ok(await panel.isHidden());

  // An administrator's own reservations page shows theirs only, and it is not their turn.
  await adminPage.goto("/reservations");
  await adminPage.getByText("You have no upcoming reservations.").waitFor();
  assert.equal(await adminPage.getByTestId("your-turn").count(), 0, "not the admin's turn");

  // --- the users section: search finds the user; their role is shown ---------------------
  await adminPage.goto("/admin/users");
  await adminPage.getByLabel("Search users").fill(uma.email);
  const row = adminPage.getByRole("row", { name: new RegExp(uma.email) });
  await row.waitFor();
  await adminPage.getByRole("row").nth(2).waitFor({ state: "detached" }); // the search applied
  assert.equal(await adminPage.getByRole("row").count(), 2, "the header and the one match");
  assert.equal(await row.getByLabel(`Role of ${uma.email}`).inputValue(), "user");
  await shot(adminPage, "reservations-admin-users");
  await checkA11y(adminPage, "admin: users");

  // Bob never chose: the bell offers browser notifications.
  await second.page.getByRole("button", { name: /^Notifications/ }).click();
  await second.page
    .getByRole("region", { name: "Notifications" })
    .getByRole("button", { name: "Enable browser notifications" })
    .waitFor();
  await second.page.getByRole("region", { name: "Notifications" }).getByText("Nothing yet.").waitFor();

  // Not an administrator: no Admin in the navigation, and the page says so.
  await second.page.goto("/admin/users");
  await second.page.getByRole("alert").filter({ hasText: "for administrators only" }).waitFor();
  assert.equal(await second.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).count(), 0);
  const secondErrors = second.errors.filter((line) => !expected409(line)); // before the ban below

  // Roles and bans, on the second user.
  await adminPage.getByLabel("Search users").fill(bob.email);
  const bobRow = adminPage.getByRole("row", { name: new RegExp(bob.email) });
  await bobRow.waitFor();
  await adminPage.getByRole("row").nth(2).waitFor({ state: "detached" });
  await bobRow.getByLabel(`Role of ${bob.email}`).selectOption("admin");
  await adminPage.getByTestId("toast").filter({ hasText: "Role set to admin" }).waitFor();
  await bobRow.getByLabel(`Role of ${bob.email}`).selectOption("user");
  await adminPage.getByTestId("toast").filter({ hasText: "Role set to user" }).waitFor();
  await bobRow.getByRole("button", { name: `Ban ${bob.email}` }).click();
  const banDialog = adminPage.getByRole("dialog", { name: `Ban ${bob.email}?` });
  await banDialog.getByLabel("Reason (optional)").fill("Testing bans");
  await banDialog.getByRole("button", { name: "Ban user" }).click();
  await bobRow.getByText("Banned").waitFor();
  await shot(adminPage, "reservations-admin-users-banned");
  await bobRow.getByRole("button", { name: `Unban ${bob.email}` }).click();
  await bobRow.getByText("Active").waitFor();

  // --- dark, on a phone: the user's page and the queue board ----------------------------
  const phone = { viewport: { width: 375, height: 812 }, colorScheme: "dark" };
  const mobile = await openPage(browser, phone);
  await signIn(mobile.page, uma.email, uma.password);
  await mobile.page.goto("/reservations");
  await mobile.page.getByTestId("your-turn").waitFor();
  await mobile.page.getByRole("radio", { name: new RegExp(service) }).check();
  await mobile.page.getByLabel("Day", { exact: true }).fill(day);
  await slotList(mobile.page).waitFor();
  await shot(mobile.page, "reservations-phone-dark");
  await checkA11y(mobile.page, "reservations: phone, dark");
  const mobileAdmin = await openPage(browser, phone);
  await signIn(mobileAdmin.page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await mobileAdmin.page.goto("/admin/queue");
  await mobileAdmin.page.getByLabel("Service", { exact: true }).selectOption({ label: service });
  await mobileAdmin.page.getByTestId("now-serving").getByText(uma.email, { exact: false }).waitFor();
  await shot(mobileAdmin.page, "reservations-admin-queue-phone-dark");
  await checkA11y(mobileAdmin.page, "admin: queue board, phone, dark");

  // --- served: the administrator advances again, and the user's turn is over, live --------
  await adminPage.goto("/admin/queue");
  await adminPage.getByLabel("Service", { exact: true }).selectOption({ label: service });
  await adminPage.getByRole("button", { name: "Advance: done, call next" }).click();
  await adminPage.getByTestId("now-serving").getByText("Nobody is being served.").waitFor();
  // The board lists today's reservations: late in the day the flow books tomorrow's slot
  // (pickDayWithSlot), which is then not among them.
  if (day === new Date().toISOString().slice(0, 10)) {
    const umaToday = adminPage.getByRole("listitem").filter({ hasText: uma.email });
    await umaToday.getByText("Left the queue").waitFor();
    assert.equal(await umaToday.getByRole("button", { name: /^Check in/ }).count(), 0, "served: no check-in");
  }
  await banner.waitFor({ state: "detached" });
  await mine.getByText("Left the queue").waitFor();
  assert.equal(await mine.getByRole("button", { name: "Check in" }).count(), 0, "no second check-in");

  for (const [who, errors] of [
    ["admin", adminErrors],
    ["first user", first.errors],
    ["second user", secondErrors],
    ["phone", mobile.errors],
    ["phone admin", mobileAdmin.errors],
  ]) {
    assert.deepEqual(errors, [], `${who}: console errors, CSP violations or missing assets`);
  }
});
