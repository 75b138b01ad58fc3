// What the reservation flows share: the day picker and the slot buttons of /reservations.

/** The day after `YYYY-MM-DD` (the page's own "today", in the browser's zone). */
export function nextDay(day) {
  const date = new Date(`${day}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

export const slotList = (page) => page.getByRole("list", { name: "Slots" });
export const enabledSlots = (page) => slotList(page).locator("button:enabled");

/** Choose `service` and land on a day that still has a bookable slot (today, else tomorrow);
 * returns the accessible name of the slot to book (not the very next one, which could start
 * while the test runs). */
export async function pickDayWithSlot(page, service) {
  await page.goto("/reservations");
  await page.getByRole("radio", { name: new RegExp(service) }).check();
  await slotList(page).or(page.getByText(/No more slots|Closed on this day/)).first().waitFor();
  const today = await enabledSlots(page).count();
  if (today >= 2) return (await enabledSlots(page).nth(1).textContent()).trim();
  const day = page.getByLabel("Day", { exact: true });
  await day.fill(nextDay(await day.inputValue()));
  await enabledSlots(page).first().waitFor();
  return (await enabledSlots(page).first().textContent()).trim();
}

/** The slot button whose text starts with `slot`'s time range. */
export const slotButton = (page, slot) =>
  slotList(page).getByRole("button", { name: new RegExp(`^${slot.split(",")[0]}`) });
