import { useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { useToast } from "@/components/ui/toast";
import { api } from "@/lib/api";
import { formatDateTime, isoDay } from "@/lib/format";
import { cn } from "@/lib/utils";

import { durationLabel, reservationError } from "./reservationsApi";
import { SlotPicker } from "./SlotPicker";
import type { Reservation, Service, Slot } from "./types";

/** Pick a service, a day and a slot, and book it. */
export function BookingPanel({ services, onBooked }: { services: Service[]; onBooked: () => void }) {
  const toast = useToast();
  const [serviceId, setServiceId] = useState<string | null>(null);
  const [day, setDay] = useState(isoDay());
  const [slot, setSlot] = useState<Slot | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);
  const service = services.find((s) => s.id === serviceId) ?? null;

  async function book() {
    if (!service || !slot) return;
    setBusy(true);
    setError(null);
    try {
      const made = await api<Reservation>("/api/reservations", {
        method: "POST",
        body: { service_id: service.id, time_slot: slot.start },
      });
      toast({
        title: made.status === "confirmed" ? "Booked" : "Booked, awaiting confirmation",
        description: `${service.name}, ${formatDateTime(made.time_slot)}`,
        variant: "success",
      });
      setSlot(null);
      onBooked();
    } catch (failure) {
      setError(reservationError(failure));
      setSlot(null);
    } finally {
      setBusy(false);
      setVersion((v) => v + 1); // the places left changed either way
    }
  }

  return (
    <Card>
      <CardHeader>
        <CardTitle>Book a slot</CardTitle>
        <CardDescription>Choose a service, then a day and a time.</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-5">
        {services.length === 0 ? (
          <p className="text-sm text-muted-foreground">No services are offered yet.</p>
        ) : (
          <fieldset className="grid gap-2">
            <legend className="mb-2 text-sm font-medium">Service</legend>
            {services.map((s) => (
              <label
                key={s.id}
                className={cn(
                  "flex cursor-pointer items-start gap-3 rounded-md border p-3 text-sm hover:bg-accent has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-ring",
                  s.id === serviceId && "border-primary",
                )}
              >
                <input
                  type="radio"
                  name="service"
                  className="mt-1"
                  checked={s.id === serviceId}
                  onChange={() => {
                    setServiceId(s.id);
                    setSlot(null);
                    setError(null);
                  }}
                />
                <span className="grid gap-0.5">
                  <span className="font-medium">{s.name}</span>
                  {s.description && <span className="text-muted-foreground">{s.description}</span>}
                  <span className="text-xs text-muted-foreground">
                    {durationLabel(s.duration_minutes)} · {s.capacity} {s.capacity === 1 ? "place" : "places"} per slot
                  </span>
                </span>
              </label>
            ))}
          </fieldset>
        )}
        {service && (
          <section aria-label={`Slots for ${service.name}`} className="grid gap-3">
            <SlotPicker
              serviceId={service.id}
              day={day}
              onDayChange={(value) => {
                setDay(value);
                setSlot(null);
              }}
              selected={slot?.start ?? null}
              onSelect={(picked) => {
                setSlot(picked);
                setError(null);
              }}
              version={version}
            />
            {error && <Alert variant="destructive">{error}</Alert>}
            <div>
              <Button onClick={() => void book()} disabled={!slot || busy}>
                {busy ? "Booking…" : slot ? `Book ${formatDateTime(slot.start)}` : "Pick a slot to book"}
              </Button>
            </div>
          </section>
        )}
      </CardContent>
    </Card>
  );
}
