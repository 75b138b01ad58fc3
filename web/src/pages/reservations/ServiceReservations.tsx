import { useEffect, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { useToast } from "@/components/ui/toast";
import { api } from "@/lib/api";
import { formatDateTime } from "@/lib/format";
import { useLiveQuery } from "@/lib/live";

import { MoveDialog } from "./MoveDialog";
import { reservationError } from "./reservationsApi";
import { StatusBadge } from "./StatusBadge";
import type { QueueEntry, QueueView, Reservation, Service } from "./types";

export const slotEnd = (reservation: Reservation, service: Service | undefined): number =>
  Date.parse(reservation.time_slot) + (service?.duration_minutes ?? 0) * 60_000;

/** My place in this service's queue, live: the entry's ticket and how many wait ahead. */
function QueuePlace({ entry, view }: { entry: QueueEntry; view: QueueView }) {
  if (entry.status === "in_service") {
    return (
      <p className="rounded-md border border-success/60 p-3 text-sm font-medium">
        Ticket #{entry.position}: it&apos;s your turn, please go ahead.
      </p>
    );
  }
  const ahead = entry.ahead ?? 0;
  return (
    <div className="rounded-md border p-3 text-sm" data-testid="queue-place">
      <p className="font-medium">You are checked in: ticket #{entry.position}.</p>
      <p className="text-muted-foreground">
        {ahead === 0 ? "You are next." : `${ahead} ${ahead === 1 ? "person waits" : "people wait"} ahead of you.`}{" "}
        {view.now_serving === null ? "Nobody is being served right now." : `Now serving #${view.now_serving}.`}
      </p>
    </div>
  );
}

function ReservationRow({
  reservation,
  service,
  entry,
  queueDone,
  onChanged,
}: {
  reservation: Reservation;
  service: Service | undefined;
  entry: QueueEntry | undefined;
  /** It was in the queue while this page was open and has left it (served or skipped). */
  queueDone: boolean;
  onChanged: () => void;
}) {
  const toast = useToast();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [moving, setMoving] = useState(false);
  const now = Date.now();
  const started = Date.parse(reservation.time_slot) <= now;
  const ended = slotEnd(reservation, service) <= now;
  const active = reservation.status !== "canceled" && !ended;
  const when = formatDateTime(reservation.time_slot);

  async function run(action: () => Promise<unknown>, done: string) {
    setBusy(true);
    setError(null);
    try {
      await action();
      toast({ title: done, description: `${service?.name ?? "Reservation"}, ${when}`, variant: "success" });
      onChanged();
    } catch (failure) {
      setError(reservationError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <li className="grid gap-2 border-b py-3 last:border-0">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="flex flex-wrap items-center gap-2">
          <span className="font-medium">{when}</span>
          <StatusBadge status={reservation.status} />
          {entry && <Badge variant="outline">In queue #{entry.position}</Badge>}
          {queueDone && <Badge variant="outline">Left the queue</Badge>}
        </div>
        {active && (
          <div className="flex flex-wrap gap-2">
            {reservation.status === "confirmed" && !entry && !queueDone && (
              <Button
                size="sm"
                disabled={busy}
                onClick={() =>
                  void run(
                    () =>
                      api(`/api/queues/${reservation.service_id}/join`, {
                        method: "POST",
                        body: { reservation_id: reservation.id },
                      }),
                    "Checked in",
                  )
                }
              >
                Check in
              </Button>
            )}
            {!started && !entry && (
              <Button size="sm" variant="outline" disabled={busy} onClick={() => setMoving(true)}>
                Move
              </Button>
            )}
            {!started && (
              <Button size="sm" variant="outline" disabled={busy} onClick={() => setConfirmCancel(true)}>
                Cancel
              </Button>
            )}
          </div>
        )}
      </div>
      {reservation.status === "pending" && active && (
        <p className="text-xs text-muted-foreground">Waiting for an administrator to confirm it.</p>
      )}
      {error && <Alert variant="destructive">{error}</Alert>}
      <Dialog open={confirmCancel} onClose={() => setConfirmCancel(false)} title="Cancel this reservation?">
        <p className="text-sm">
          {service?.name ?? "Reservation"} on {when}. Your place is given back at once
          {entry ? " and you leave the queue" : ""}.
        </p>
        <div className="mt-4 flex justify-end gap-2">
          <Button variant="outline" onClick={() => setConfirmCancel(false)}>
            Keep it
          </Button>
          <Button
            variant="destructive"
            onClick={() => {
              setConfirmCancel(false);
              void run(
                () => api(`/api/reservations/${reservation.id}`, { method: "PATCH", body: { status: "canceled" } }),
                "Reservation canceled",
              );
            }}
          >
            Cancel reservation
          </Button>
        </div>
      </Dialog>
      {service && (
        <MoveDialog
          open={moving}
          onClose={() => setMoving(false)}
          reservation={reservation}
          service={service}
          onMoved={() => {
            setMoving(false);
            toast({ title: "Reservation moved", description: service.name, variant: "success" });
            onChanged();
          }}
        />
      )}
    </li>
  );
}

/** My upcoming reservations of one service, and my place in its queue, live. */
export function ServiceReservations({
  serviceId,
  me,
  service,
  reservations,
  onChanged,
  onTurn,
}: {
  serviceId: string;
  /** My user id: an administrator's queue view holds everyone's entries. */
  me: string;
  service: Service | undefined;
  reservations: Reservation[];
  onChanged: () => void;
  onTurn: (serviceId: string, entry: QueueEntry | null) => void;
}) {
  const queue = useLiveQuery<QueueView>("queue.position", { service_id: serviceId });
  const entries = (queue.data?.entries ?? []).filter((entry) => entry.user_id === me);
  const turn = entries.find((entry) => entry.status === "in_service") ?? null;
  const turnId = turn?.id ?? null;
  useEffect(() => {
    onTurn(serviceId, turn);
    // Only a change of the entry called matters, not a new object for the same one.
  }, [serviceId, turnId]);
  useEffect(() => () => onTurn(serviceId, null), [serviceId, onTurn]);
  const byReservation = new Map(entries.map((entry) => [entry.reservation_id, entry]));
  // The live view holds active entries only: remember which reservations were in the queue,
  // so one that was served (or skipped) is not offered check-in again.
  const [seen, setSeen] = useState<ReadonlySet<string>>(new Set());
  const queuedIds = entries.flatMap((entry) => (entry.reservation_id ? [entry.reservation_id] : [])).join(",");
  useEffect(() => {
    if (!queuedIds) return;
    setSeen((previous) => {
      const ids = queuedIds.split(",");
      return ids.every((id) => previous.has(id)) ? previous : new Set([...previous, ...ids]);
    });
  }, [queuedIds]);
  const title = service?.name ?? "A service no longer offered";

  return (
    <section aria-label={title} className="grid gap-2 rounded-lg border p-4">
      <h3 className="font-semibold">{title}</h3>
      {queue.error && <Alert variant="destructive">Your place in the queue is not available: {queue.error.message}</Alert>}
      {queue.data && entries.map((entry) => <QueuePlace key={entry.id} entry={entry} view={queue.data as QueueView} />)}
      <ul>
        {reservations.map((reservation) => (
          <ReservationRow
            key={reservation.id}
            reservation={reservation}
            service={service}
            entry={byReservation.get(reservation.id)}
            queueDone={seen.has(reservation.id) && !byReservation.has(reservation.id)}
            onChanged={onChanged}
          />
        ))}
      </ul>
    </section>
  );
}
