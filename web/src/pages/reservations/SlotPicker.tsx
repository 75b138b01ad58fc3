import { useCallback, useEffect, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { api, errorMessage } from "@/lib/api";
import { formatTime, isoDay, localTimeZone } from "@/lib/format";
import { cn } from "@/lib/utils";

import type { Availability, Slot } from "./types";

/** A day's slots of a service, read in the browser's zone, refetched when `version` changes. */
export function useAvailability(serviceId: string | null, day: string, version: number) {
  // `of`: the service and day the data is for. Another day's slots are never shown while
  // this day's load (a click on them would book the wrong day).
  const [state, setState] = useState<{
    of: string;
    data: Availability | null;
    error: string | null;
    loading: boolean;
  }>({ of: "", data: null, error: null, loading: false });
  const of = `${serviceId ?? ""}/${day}`;
  const load = useCallback(
    async (signal?: AbortSignal) => {
      if (!serviceId || !day) return;
      setState((previous) => ({ ...previous, loading: true, error: null }));
      try {
        const data = await api<Availability>(`/api/services/${serviceId}/availability`, {
          query: { date: day, tz: localTimeZone() },
          signal,
        });
        setState({ of: `${serviceId}/${day}`, data, error: null, loading: false });
      } catch (error) {
        if (error instanceof DOMException && error.name === "AbortError") return;
        setState({ of: `${serviceId}/${day}`, data: null, error: errorMessage(error), loading: false });
      }
    },
    [serviceId, day],
  );
  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load, version]);
  // Places change as others book: read again when the person comes back to the tab.
  useEffect(() => {
    const onFocus = () => {
      if (document.visibilityState === "visible") void load();
    };
    document.addEventListener("visibilitychange", onFocus);
    return () => document.removeEventListener("visibilitychange", onFocus);
  }, [load]);
  if (state.of === of) return state;
  return { of, data: null, error: null, loading: Boolean(serviceId && day) };
}

function slotNote(slot: Slot): string {
  if (slot.remaining <= 0) return "Full";
  if (!slot.available) return "Unavailable";
  return `${slot.remaining} of ${slot.capacity} left`;
}

/** The date input and the day's slots as buttons; a full slot is disabled. */
export function SlotPicker({
  serviceId,
  day,
  onDayChange,
  selected,
  onSelect,
  version,
}: {
  serviceId: string;
  day: string;
  onDayChange: (day: string) => void;
  selected: string | null;
  onSelect: (slot: Slot) => void;
  version: number;
}) {
  const { data, error, loading } = useAvailability(serviceId, day, version);
  const now = Date.now();
  // Slots already started are no use to anyone: show what is still ahead.
  const slots = (data?.slots ?? []).filter((slot) => Date.parse(slot.start) > now);
  return (
    <div className="grid gap-3">
      <Field label="Day" hint={`Times are shown in your time zone (${localTimeZone()}).`}>
        {(p) => (
          <Input
            {...p}
            type="date"
            className="w-auto"
            min={isoDay()}
            value={day}
            onChange={(event) => event.target.value && onDayChange(event.target.value)}
          />
        )}
      </Field>
      {error && <Alert variant="destructive">{error}</Alert>}
      {loading && !data && <Spinner label="Loading slots" />}
      {data && slots.length === 0 && (
        <p className="text-sm text-muted-foreground">
          {data.slots.length === 0 ? "Closed on this day." : "No more slots on this day."} Try another day.
        </p>
      )}
      {slots.length > 0 && (
        <ul className="grid grid-cols-2 gap-2 sm:grid-cols-3" aria-label="Slots">
          {slots.map((slot) => {
            const isSelected = selected === slot.start;
            const label = `${formatTime(slot.start)} – ${formatTime(slot.end)}`;
            return (
              <li key={slot.start}>
                <button
                  type="button"
                  disabled={!slot.available}
                  aria-pressed={isSelected}
                  onClick={() => onSelect(slot)}
                  className={cn(
                    "flex w-full cursor-pointer flex-col items-start rounded-md border px-3 py-2 text-left text-sm transition-colors hover:bg-accent focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none disabled:cursor-not-allowed disabled:bg-muted disabled:text-muted-foreground disabled:hover:bg-muted",
                    isSelected && "border-primary bg-primary text-primary-foreground hover:bg-primary/90",
                  )}
                >
                  <span className="font-medium">{label}</span>
                  <span className="sr-only">, </span>
                  <span className={cn("text-xs", isSelected ? "text-primary-foreground" : "text-muted-foreground")}>
                    {slotNote(slot)}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
