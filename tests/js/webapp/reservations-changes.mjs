// Reservations, the changes and refusals a person meets: opening hours that do not make
// sense, checking in a day early, moving a booking, canceling it (after a confirmation),
// deleting a service that still has bookings, and running a queue of walk-ins with skip and
// advance. Screenshots and axe checks of the dialogs and messages.
//
// Needs (set by tests/webapp/test_reservations.py): ADMIN_EMAIL and ADMIN_PASSWORD of an
// administrator, and a server with RESERVATIONS_AUTO_CONFIRM=true and the default check-in
// window (QUEUE_CHECKIN_EARLY_MINUTES=15), so tomorrow's booking is too early to check in.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import { nextDay } from "./booking.mjs";
import { checkA11y, collectErrors, flow, newContext, shot, signIn, signUp, uniqueEmail } from "./lib.mjs";

const ADMIN_EMAIL = process.env.ADMIN_EMAIL;
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD;
// Refusals the browser logs as failed loads, each expected by a step below.
const expectedRefusal = (line) => /status of 409/.test(line);

const toast = (page, text) => page.getByTestId("toast").filter({ hasText: text });

await flow("reservations-changes", async ({ browser, page: admin, errors: adminErrors }) => {
  assert.ok(ADMIN_EMAIL && ADMIN_PASSWORD, "ADMIN_EMAIL and ADMIN_PASSWORD are set");
  const service = `Repair shop ${randomUUID().slice(0, 6)}`;

  // --- opening hours that end before they start are refused, in words -------------------
  await signIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD);
  await admin.goto("/admin/services");
  await admin.getByRole("button", { name: "New service" }).click();
  const form = admin.getByRole("dialog", { name: "New service" });
  await form.getByLabel("Name", { exact: true }).fill(service);
  await form.getByLabel("Slot length (minutes)").fill("60");
  await form.getByLabel("Places per slot").fill("2");
  await form.getByLabel("Time zone").fill("UTC");
  await form.getByLabel("Monday opens").fill("17:00");
  await form.getByLabel("Monday closes").fill("09:00");
  await form.getByRole("button", { name: "Create service" }).click();
  await form.getByRole("alert").filter({ hasText: "Monday: opening must be before closing." }).waitFor();
  await shot(admin, "reservations-changes-hours-refused");
  await checkA11y(admin, "admin: the service form refusing its hours");
  await form.getByLabel("Monday opens").fill("00:00");
  await form.getByLabel("Monday closes").fill("00:00");
  await form.getByRole("button", { name: "Use Monday's hours every day" }).click();
  await form.getByRole("button", { name: "Create service" }).click();
  await admin.getByRole("cell", { name: service, exact: true }).waitFor();
  await toast(admin, "Service created").waitFor();

  // --- a user books tomorrow; checking in now is too early, said with the time ----------
  const user = await (async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    return { page, errors: collectErrors(page) };
  })();
  await signUp(user.page, { name: "Rae Repair", email: uniqueEmail("rae") });
  await user.page.goto("/reservations");
  await user.page.getByRole("radio", { name: new RegExp(service) }).check();
  const day = user.page.getByLabel("Day", { exact: true });
  await day.fill(nextDay(await day.inputValue()));
  const slots = user.page.getByRole("list", { name: "Slots" }).locator("button:enabled");
  await slots.nth(2).click();
  await user.page.getByRole("button", { name: /^Book / }).click();
  const mine = user.page.getByRole("region", { name: service, exact: true });
  await mine.getByText("Confirmed").waitFor();
  await mine.getByRole("button", { name: "Check in" }).click();
  await mine.getByRole("alert").filter({ hasText: /^Too early to check in: check-in opens at / }).waitFor();
  await shot(user.page, "reservations-changes-too-early");
  await checkA11y(user.page, "reservations: check-in too early");

  // --- moving it to another slot of the same day -----------------------------------------
  const bookedAt = await mine.locator("li").first().locator("span.font-medium").first().textContent();
  await mine.getByRole("button", { name: "Move" }).click();
  const move = user.page.getByRole("dialog", { name: `Move: ${service}` });
  const moveSlots = move.getByRole("list", { name: "Slots" }).locator("button:enabled");
  await moveSlots.nth(5).click();
  await shot(user.page, "reservations-changes-move");
  await checkA11y(user.page, "reservations: the move dialog");
  await move.getByRole("button", { name: /^Move to / }).click();
  await toast(user.page, "Reservation moved").waitFor();
  await move.waitFor({ state: "hidden" });
  await mine.getByText(bookedAt, { exact: true }).waitFor({ state: "detached" }); // moved away
  assert.equal(await mine.locator("li").count(), 1, "still one reservation");

  // --- the administrator can not delete a service somebody booked ---------------------------
  await admin.reload();
  await admin.getByRole("button", { name: `Delete ${service}` }).click();
  const confirmDelete = admin.getByRole("dialog", { name: `Delete ${service}?` });
  await confirmDelete.getByRole("button", { name: "Delete service" }).click();
  await confirmDelete.getByRole("alert").waitFor();
  await shot(admin, "reservations-changes-delete-refused");
  await checkA11y(admin, "admin: deleting a booked service refused");
  await confirmDelete.getByRole("button", { name: "Keep it" }).click();

  // --- canceling asks first, then frees the place ------------------------------------------
  await mine.getByRole("button", { name: "Cancel" }).click();
  const confirmCancel = user.page.getByRole("dialog", { name: "Cancel this reservation?" });
  await shot(user.page, "reservations-changes-cancel-confirm");
  await checkA11y(user.page, "reservations: the cancel confirmation");
  await confirmCancel.getByRole("button", { name: "Cancel reservation" }).click();
  await toast(user.page, "Reservation canceled").waitFor();
  await user.page.getByText("You have no upcoming reservations.").waitFor();
  await user.page.getByText("Past and canceled (1)").click();
  await user.page.getByText("Canceled", { exact: true }).waitFor();
  await shot(user.page, "reservations-changes-canceled");

  // --- walk-ins: call one, skip a no-show, advance to the end ---------------------------------
  await admin.goto("/admin/queue");
  await admin.getByLabel("Service", { exact: true }).selectOption({ label: service });
  for (const name of ["Wanda", "Xavier", "Yusuf"]) {
    await admin.getByLabel("Walk-in name (optional)").fill(name);
    await admin.getByRole("button", { name: "Add walk-in" }).click();
    await admin.getByRole("list", { name: "Waiting list" }).getByText(`Walk-in: ${name}`).waitFor();
  }
  const serving = admin.getByTestId("now-serving");
  await admin.getByRole("button", { name: "Call next" }).click();
  await serving.getByText("Walk-in: Wanda").waitFor();
  await admin.getByRole("button", { name: "Skip #3" }).click(); // Yusuf left before his turn
  await admin.getByRole("list", { name: "Waiting list" }).getByText("Walk-in: Yusuf").waitFor({ state: "detached" });
  await admin.getByRole("button", { name: "Skip (no-show)" }).click(); // Wanda is not here
  await serving.getByText("Walk-in: Xavier").waitFor();
  await shot(admin, "reservations-changes-walk-ins");
  await checkA11y(admin, "admin: a queue of walk-ins");
  await admin.getByRole("button", { name: "Advance: done, call next" }).click();
  await serving.getByText("Nobody is being served.").waitFor();
  assert.ok(await admin.getByRole("button", { name: "Call next" }).isDisabled(), "nothing to advance");

  // --- nobody booked, nobody waiting: now it can go ---------------------------------------
  await admin.goto("/admin/services");
  await admin.getByRole("button", { name: `Delete ${service}` }).click();
  await admin.getByRole("dialog", { name: `Delete ${service}?` }).getByRole("button", { name: "Delete service" }).click();
  await toast(admin, "Service deleted").waitFor();
  await admin.getByRole("cell", { name: service, exact: true }).waitFor({ state: "detached" });

  assert.deepEqual(adminErrors.filter((line) => !expectedRefusal(line)), [], "admin: console errors");
  assert.deepEqual(user.errors.filter((line) => !expectedRefusal(line)), [], "user: console errors");
});
