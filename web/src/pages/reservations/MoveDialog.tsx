import { useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { api } from "@/lib/api";
import { formatDateTime, isoDay } from "@/lib/format";

import { reservationError } from "./reservationsApi";
import { SlotPicker } from "./SlotPicker";
import type { Reservation, Service, Slot } from "./types";

/** Move a reservation to another slot of its service (the rules of booking apply). */
export function MoveDialog({
  open,
  onClose,
  reservation,
  service,
  onMoved,
}: {
  open: boolean;
  onClose: () => void;
  reservation: Reservation;
  service: Service;
  onMoved: () => void;
}) {
  const [day, setDay] = useState(isoDay(new Date(reservation.time_slot)));
  const [slot, setSlot] = useState<Slot | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);

  async function move() {
    if (!slot) return;
    setBusy(true);
    setError(null);
    try {
      await api(`/api/reservations/${reservation.id}`, { method: "PATCH", body: { time_slot: slot.start } });
      setSlot(null);
      onMoved();
    } catch (failure) {
      setError(reservationError(failure));
      setSlot(null);
      setVersion((v) => v + 1);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog open={open} onClose={onClose} title={`Move: ${service.name}`}>
      <div className="grid gap-3">
        <p className="text-sm text-muted-foreground">Now: {formatDateTime(reservation.time_slot)}</p>
        <SlotPicker
          serviceId={service.id}
          day={day}
          onDayChange={setDay}
          selected={slot?.start ?? null}
          onSelect={setSlot}
          version={version}
        />
        {error && <Alert variant="destructive">{error}</Alert>}
        <div className="flex justify-end gap-2">
          <Button variant="outline" onClick={onClose}>
            Close
          </Button>
          <Button disabled={!slot || busy} onClick={() => void move()}>
            {slot ? `Move to ${formatDateTime(slot.start)}` : "Pick a slot"}
          </Button>
        </div>
      </div>
    </Dialog>
  );
}
