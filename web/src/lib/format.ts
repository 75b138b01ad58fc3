/** Dates and money for display. The API speaks ISO 8601 UTC and decimal strings. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });

export const formatDateTime = (iso: string | null | undefined): string =>
  iso ? dateTime.format(new Date(iso)) : "—";
export const formatDate = (iso: string | null | undefined): string => (iso ? dateOnly.format(new Date(iso)) : "—");
export const formatTime = (iso: string | null | undefined): string => (iso ? timeOnly.format(new Date(iso)) : "—");

export function formatMoney(amount: string | number, currency?: string | null): string {
  const value = typeof amount === "string" ? Number(amount) : amount;
  if (!Number.isFinite(value)) return String(amount);
  return currency
    ? new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value)
    : value.toFixed(2);
}

/** The browser's IANA time zone, for endpoints that take `tz`. */
export const localTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/** `YYYY-MM-DD` of a Date in local time (for <input type="date"> and `date=` parameters). */
export function isoDay(date: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Value for <input type="datetime-local"> from an ISO instant, in local time. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${isoDay(date)}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** ISO instant (UTC) from an <input type="datetime-local"> value, read in local time. */
export const fromLocalInput = (value: string): string => new Date(value).toISOString();
