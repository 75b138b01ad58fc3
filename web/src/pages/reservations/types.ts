/** The API shapes this page uses (docs/api/reservations.md, reservations/schemas.py). */

export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
export const WEEKDAYS: { key: Weekday; label: string }[] = [
  { key: "mon", label: "Monday" },
  { key: "tue", label: "Tuesday" },
  { key: "wed", label: "Wednesday" },
  { key: "thu", label: "Thursday" },
  { key: "fri", label: "Friday" },
  { key: "sat", label: "Saturday" },
  { key: "sun", label: "Sunday" },
];

/** Local time "HH:MM"; "24:00" closes at midnight at the end of the day. */
export interface Interval {
  open: string;
  close: string;
}

/** A missing day is closed. */
export type OpeningHours = Partial<Record<Weekday, Interval[]>>;

export interface Service {
  id: string;
  name: string;
  description: string | null;
  duration_minutes: number;
  capacity: number;
  opening_hours: OpeningHours;
  timezone: string;
  created_at: string;
  updated_at: string;
}

export interface ServiceInput {
  name: string;
  description: string | null;
  duration_minutes: number;
  capacity: number;
  opening_hours: OpeningHours;
  timezone: string;
}

export interface Slot {
  start: string;
  end: string;
  capacity: number;
  reserved: number;
  remaining: number;
  /** Bookable now: in the future, within the horizon, free. */
  available: boolean;
}

export interface Availability {
  service_id: string;
  date: string;
  timezone: string;
  slots: Slot[];
}

export type ReservationStatus = "pending" | "confirmed" | "canceled";

export interface Reservation {
  id: string;
  user_id: string;
  service_id: string;
  time_slot: string;
  status: ReservationStatus;
  created_at: string;
  updated_at: string;
}

export type QueueStatus = "waiting" | "in_service" | "completed" | "skipped";

export interface QueueEntry {
  id: string;
  service_id: string;
  reservation_id: string | null;
  user_id: string | null;
  /** A walk-in's label (admins add walk-ins). */
  label: string | null;
  /** The ticket number, per service. */
  position: number;
  status: QueueStatus;
  /** Waiting entries to be called first; 0 in service. */
  ahead: number | null;
  created_at: string;
  updated_at: string;
}

/** `GET /api/queues/{id}` and the live `queue.position`: a user's own entries, an admin's every one. */
export interface QueueView {
  service_id: string;
  now_serving: number | null;
  waiting_count: number;
  entries: QueueEntry[];
}

export interface QueueMoved {
  finished: QueueEntry | null;
  called: QueueEntry | null;
  now_serving: number | null;
  waiting_count: number;
}
