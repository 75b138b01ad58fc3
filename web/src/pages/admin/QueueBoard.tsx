import { type FormEvent, useCallback, useEffect, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input, Select } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { useToast } from "@/components/ui/toast";
import { api, errorMessage } from "@/lib/api";
import { authClient } from "@/lib/auth";
import { formatDateTime, formatTime, isoDay, localTimeZone } from "@/lib/format";
import { useLiveQuery } from "@/lib/live";
import { allPages } from "@/pages/reservations/reservationsApi";
import { StatusBadge } from "@/pages/reservations/StatusBadge";
import type { QueueEntry, QueueMoved, QueueView, Reservation, Service } from "@/pages/reservations/types";

import { useServices } from "./ServicesAdmin";

/** Names of the users behind queue entries and reservations, fetched once each. */
function useUserNames(ids: (string | null)[]) {
  const [names, setNames] = useState<Record<string, string>>({});
  const missing = [...new Set(ids.filter((id): id is string => !!id && !(id in names)))].sort().join(",");
  useEffect(() => {
    if (!missing) return;
    let live = true;
    void Promise.all(
      missing.split(",").map(async (id) => {
        const { data } = await authClient.admin.getUser({ query: { id } });
        return [id, data ? `${data.name || data.email} (${data.email})` : "Unknown user"] as const;
      }),
    ).then((found) => {
      if (live) setNames((previous) => ({ ...previous, ...Object.fromEntries(found) }));
    });
    return () => {
      live = false;
    };
  }, [missing]);
  return names;
}

function entryName(entry: QueueEntry, names: Record<string, string>): string {
  if (entry.user_id) return names[entry.user_id] ?? "…";
  return entry.label ? `Walk-in: ${entry.label}` : "Walk-in";
}

/** One service's queue, live: who is in service, who waits, and the buttons that move it. */
function ServiceQueue({ service }: { service: Service }) {
  const toast = useToast();
  const queue = useLiveQuery<QueueView>("queue.position", { service_id: service.id });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [reservations, setReservations] = useState<Reservation[] | null>(null);
  const entries = queue.data?.entries ?? [];
  const serving = entries.find((entry) => entry.status === "in_service") ?? null;
  const waiting = entries.filter((entry) => entry.status === "waiting");
  // Active entries only come live: remember who was in the queue, so a reservation served
  // (or skipped) on this board is not offered check-in again.
  const [seen, setSeen] = useState<ReadonlySet<string>>(new Set());
  const queuedIds = entries.flatMap((e) => (e.reservation_id ? [e.reservation_id] : [])).join(",");
  useEffect(() => {
    if (!queuedIds) return;
    setSeen((previous) => {
      const ids = queuedIds.split(",");
      return ids.every((id) => previous.has(id)) ? previous : new Set([...previous, ...ids]);
    });
  }, [queuedIds]);
  const names = useUserNames([...entries.map((e) => e.user_id), ...(reservations ?? []).map((r) => r.user_id)]);

  const loadReservations = useCallback(async () => {
    try {
      const rows = await allPages<Reservation>("/api/reservations", {
        service_id: service.id,
        date: isoDay(),
        tz: localTimeZone(),
      });
      setReservations(rows.filter((r) => r.status !== "canceled"));
    } catch (failure) {
      setError(errorMessage(failure));
    }
  }, [service.id]);
  // Read today's reservations again whenever the queue moves (a check-in, a cancellation).
  const queueVersion = `${queue.data?.now_serving}-${queue.data?.waiting_count}`;
  useEffect(() => {
    void loadReservations();
  }, [loadReservations, queueVersion]);

  async function run(action: () => Promise<unknown>, done: (result: unknown) => string) {
    setBusy(true);
    setError(null);
    try {
      const result = await action();
      toast({ title: done(result), variant: "success" });
      void loadReservations();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  }

  const called = (result: unknown) => {
    const moved = result as QueueMoved;
    return moved.called ? `Called #${moved.called.position}` : "Queue moved; nobody else is waiting";
  };

  function addWalkIn(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const label = String(new FormData(form).get("label")).trim();
    void run(
      () => api(`/api/queues/${service.id}/join`, { method: "POST", body: label ? { label } : {} }),
      () => "Walk-in added",
    ).then(() => form.reset());
  }

  const queued = new Set(entries.map((e) => e.reservation_id));
  const left = (id: string) => seen.has(id) && !queued.has(id);
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Card>
        <CardHeader>
          <CardTitle>Queue: {service.name}</CardTitle>
          <CardDescription>Updates live as people check in.</CardDescription>
        </CardHeader>
        <CardContent className="grid gap-4">
          {queue.error && <Alert variant="destructive">{queue.error.message}</Alert>}
          {!queue.data && !queue.error && <Spinner label="Loading the queue" />}
          {queue.data && (
            <>
              <div className="rounded-lg border p-4" data-testid="now-serving">
                <h3 className="text-sm font-medium text-muted-foreground">In service</h3>
                {serving ? (
                  <p className="mt-1 text-lg font-semibold">
                    #{serving.position} {entryName(serving, names)}
                  </p>
                ) : (
                  <p className="mt-1 text-sm text-muted-foreground">Nobody is being served.</p>
                )}
              </div>
              <div className="flex flex-wrap gap-2">
                <Button
                  disabled={busy || (!serving && waiting.length === 0)}
                  onClick={() => void run(() => api(`/api/queues/${service.id}/advance`, { method: "POST" }), called)}
                >
                  {serving ? "Advance: done, call next" : "Call next"}
                </Button>
                <Button
                  variant="outline"
                  disabled={busy || !serving}
                  onClick={() =>
                    void run(() => api(`/api/queues/${service.id}/skip`, { method: "POST", body: {} }), called)
                  }
                >
                  Skip (no-show)
                </Button>
              </div>
              {error && <Alert variant="destructive">{error}</Alert>}
              <div>
                <h3 className="mb-2 text-sm font-medium">Waiting ({queue.data.waiting_count})</h3>
                {waiting.length === 0 ? (
                  <p className="text-sm text-muted-foreground">Nobody is waiting.</p>
                ) : (
                  <ol className="grid gap-2" aria-label="Waiting list">
                    {waiting.map((entry) => (
                      <li key={entry.id} className="flex flex-wrap items-center justify-between gap-2 rounded-md border p-2 text-sm">
                        <span>
                          <span className="font-medium">#{entry.position}</span> {entryName(entry, names)}
                          <span className="text-muted-foreground"> · since {formatTime(entry.created_at)}</span>
                        </span>
                        <Button
                          size="sm"
                          variant="ghost"
                          disabled={busy}
                          aria-label={`Skip #${entry.position}`}
                          onClick={() =>
                            void run(
                              () => api(`/api/queues/${service.id}/skip`, { method: "POST", body: { entry_id: entry.id } }),
                              () => `Skipped #${entry.position}`,
                            )
                          }
                        >
                          Skip
                        </Button>
                      </li>
                    ))}
                  </ol>
                )}
              </div>
              <form className="flex flex-wrap items-end gap-2" onSubmit={addWalkIn}>
                <Field label="Walk-in name (optional)" className="min-w-0 flex-1">
                  {(p) => <Input {...p} name="label" maxLength={200} />}
                </Field>
                <Button type="submit" variant="outline" disabled={busy}>
                  Add walk-in
                </Button>
              </form>
            </>
          )}
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>Today&apos;s reservations</CardTitle>
          <CardDescription>Confirm bookings, and check people in at the desk.</CardDescription>
        </CardHeader>
        <CardContent>
          {!reservations && <Spinner label="Loading reservations" />}
          {reservations && reservations.length === 0 && (
            <p className="text-sm text-muted-foreground">No reservations today.</p>
          )}
          {reservations && reservations.length > 0 && (
            <ul className="grid gap-2">
              {reservations.map((reservation) => (
                <li key={reservation.id} className="flex flex-wrap items-center justify-between gap-2 rounded-md border p-2 text-sm">
                  <span className="flex flex-wrap items-center gap-2">
                    <span className="font-medium">{formatTime(reservation.time_slot)}</span>
                    <span>{names[reservation.user_id] ?? "…"}</span>
                    <StatusBadge status={reservation.status} />
                    {queued.has(reservation.id) && <Badge variant="outline">In queue</Badge>}
                    {left(reservation.id) && <Badge variant="outline">Left the queue</Badge>}
                  </span>
                  <span className="flex gap-2">
                    {reservation.status === "pending" && (
                      <Button
                        size="sm"
                        variant="outline"
                        disabled={busy}
                        aria-label={`Confirm ${formatDateTime(reservation.time_slot)} for ${names[reservation.user_id] ?? "user"}`}
                        onClick={() =>
                          void run(
                            () => api(`/api/reservations/${reservation.id}`, { method: "PATCH", body: { status: "confirmed" } }),
                            () => "Reservation confirmed",
                          )
                        }
                      >
                        Confirm
                      </Button>
                    )}
                    {reservation.status === "confirmed" && !queued.has(reservation.id) && !left(reservation.id) && (
                      <Button
                        size="sm"
                        variant="outline"
                        disabled={busy}
                        aria-label={`Check in ${names[reservation.user_id] ?? "user"}`}
                        onClick={() =>
                          void run(
                            () =>
                              api(`/api/queues/${service.id}/join`, {
                                method: "POST",
                                body: { reservation_id: reservation.id },
                              }),
                            () => "Checked in",
                          )
                        }
                      >
                        Check in
                      </Button>
                    )}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </CardContent>
      </Card>
    </div>
  );
}

/** The queue board: pick a service, then run its queue. */
export function QueueBoard() {
  const { services, error } = useServices();
  const [serviceId, setServiceId] = useState<string>("");
  const service = services?.find((s) => s.id === serviceId) ?? services?.[0] ?? null;
  return (
    <section aria-labelledby="queue-heading" className="grid gap-4">
      <h2 id="queue-heading" className="text-lg font-semibold">
        Queue board
      </h2>
      {error && <Alert variant="destructive">{error}</Alert>}
      {!services && !error && <Spinner label="Loading services" />}
      {services && services.length === 0 && (
        <p className="text-sm text-muted-foreground">Create a service first: each service has its queue.</p>
      )}
      {services && service && (
        <>
          <Field label="Service" className="max-w-sm">
            {(p) => (
              <Select {...p} value={service.id} onChange={(event) => setServiceId(event.target.value)}>
                {services.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <ServiceQueue key={service.id} service={service} />
        </>
      )}
    </section>
  );
}
