/** Calls and error wording shared by the reservations page and the admin pages. */
import { api, ApiError, errorMessage, type Page } from "@/lib/api";
import { formatDateTime } from "@/lib/format";

import type { Service } from "./types";

/** Every page of a keyset list (bounded: these lists are small, a user holds ≤ 10 upcoming). */
export async function allPages<T>(path: string, query: Record<string, string> = {}, maxPages = 10): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const result: Page<T> = await api<Page<T>>(path, { query: { ...query, limit: 100, cursor } });
    rows.push(...result.data);
    cursor = result.next_cursor;
    if (!cursor) break;
  }
  return rows;
}

export const listServices = (): Promise<Service[]> => allPages<Service>("/api/services");

interface WindowDetail {
  checkin_opens_at?: string;
  checkin_closes_at?: string;
}

/** The server's refusals of bookings, moves and check-ins, in words a person acts on. */
export function reservationError(error: unknown): string {
  if (!(error instanceof ApiError)) return errorMessage(error);
  switch (error.code) {
    case "slot_full":
      return "That slot was just taken. Please pick another one.";
    case "already_reserved":
      return "You already have a reservation at that time.";
    case "slot_in_past":
      return "That slot has already started. Please pick a later one.";
    case "reservation_not_confirmed":
      return "This reservation is not confirmed yet: you can check in once it is.";
    case "already_in_queue":
      return "This reservation has already been checked in.";
    case "reservation_in_queue":
      return "You have checked in, so this reservation can no longer be moved.";
    case "outside_checkin_window": {
      const detail = error.details[0] as WindowDetail | undefined;
      const now = Date.now();
      if (detail?.checkin_opens_at && Date.parse(detail.checkin_opens_at) > now) {
        return `Too early to check in: check-in opens at ${formatDateTime(detail.checkin_opens_at)}.`;
      }
      if (detail?.checkin_closes_at) {
        return `Too late to check in: check-in closed at ${formatDateTime(detail.checkin_closes_at)}.`;
      }
      return error.message;
    }
    default:
      return errorMessage(error);
  }
}

export function durationLabel(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}
