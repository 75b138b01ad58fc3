import { useCallback, useEffect, useMemo, useState } from "react";

import { PageHeader } from "@/components/layout/Layout";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { isAdmin, useSession } from "@/lib/auth";
import { formatDateTime } from "@/lib/format";

import { BookingPanel } from "./BookingPanel";
import { allPages, listServices } from "./reservationsApi";
import { ServiceReservations, slotEnd } from "./ServiceReservations";
import { StatusBadge } from "./StatusBadge";
import type { QueueEntry, Reservation, Service } from "./types";

interface Loaded {
  services: Service[];
  reservations: Reservation[];
}

/** Services, and my reservations (an administrator's list holds everyone's: ask for mine). */
function useReservationsData(me: string, admin: boolean) {
  const [state, setState] = useState<{ data: Loaded | null; error: string | null }>({ data: null, error: null });
  const load = useCallback(async () => {
    try {
      const [services, reservations] = await Promise.all([
        listServices(),
        allPages<Reservation>("/api/reservations", admin ? { user_id: me } : {}),
      ]);
      setState({ data: { services, reservations }, error: null });
    } catch (error) {
      setState((previous) => ({ data: previous.data, error: errorMessage(error) }));
    }
  }, [me, admin]);
  useEffect(() => {
    void load();
    // An administrator may confirm a booking meanwhile: read again when the tab is shown.
    const onVisible = () => {
      if (document.visibilityState === "visible") void load();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, [load]);
  return { ...state, reload: load };
}

/** "It's your turn": the page's most important message while it holds. */
function TurnBanner({ turns, services }: { turns: Record<string, QueueEntry>; services: Service[] }) {
  const called = Object.values(turns);
  if (called.length === 0) return null;
  return (
    <div
      role="alert"
      className="mb-6 rounded-xl border-2 border-success bg-success/10 p-5"
      data-testid="your-turn"
    >
      <p className="text-2xl font-bold">It&apos;s your turn</p>
      {called.map((entry) => (
        <p key={entry.id} className="mt-1">
          {services.find((s) => s.id === entry.service_id)?.name ?? "Your service"}: ticket #{entry.position} is
          being called now.
        </p>
      ))}
    </div>
  );
}

export default function ReservationsPage() {
  const { data: session } = useSession();
  const me = session?.user.id ?? "";
  const { data, error, reload } = useReservationsData(me, isAdmin(session?.user as { role?: string } | undefined));
  const [turns, setTurns] = useState<Record<string, QueueEntry>>({});
  const onTurn = useCallback((serviceId: string, entry: QueueEntry | null) => {
    setTurns((previous) => {
      if (!entry && !(serviceId in previous)) return previous;
      const next = { ...previous };
      if (entry) next[serviceId] = entry;
      else delete next[serviceId];
      return next;
    });
  }, []);

  const groups = useMemo(() => {
    if (!data) return { upcoming: [] as [string, Reservation[]][], past: [] as Reservation[] };
    const services = new Map(data.services.map((s) => [s.id, s]));
    const now = Date.now();
    const upcoming = new Map<string, Reservation[]>();
    const past: Reservation[] = [];
    for (const reservation of data.reservations) {
      if (reservation.status === "canceled" || slotEnd(reservation, services.get(reservation.service_id)) <= now) {
        past.push(reservation);
      } else {
        upcoming.set(reservation.service_id, [...(upcoming.get(reservation.service_id) ?? []), reservation]);
      }
    }
    return { upcoming: [...upcoming.entries()], past: past.reverse() };
  }, [data]);

  const serviceName = (id: string) => data?.services.find((s) => s.id === id)?.name ?? "Removed service";

  return (
    <>
      <PageHeader title="Reservations" description="Book a service, check in when you arrive, and follow the queue." />
      <TurnBanner turns={turns} services={data?.services ?? []} />
      {error && (
        <Alert variant="destructive" className="mb-4">
          {error}{" "}
          <Button size="sm" variant="outline" onClick={() => void reload()}>
            Try again
          </Button>
        </Alert>
      )}
      {!data && !error && <Spinner label="Loading reservations" />}
      {data && (
        <div className="grid items-start gap-6 lg:grid-cols-2">
          <BookingPanel services={data.services} onBooked={() => void reload()} />
          <Card>
            <CardHeader>
              <CardTitle>My reservations</CardTitle>
              <CardDescription>Check in when you arrive: your place in the queue updates live.</CardDescription>
            </CardHeader>
            <CardContent className="grid gap-4">
              {groups.upcoming.length === 0 && (
                <p className="text-sm text-muted-foreground">You have no upcoming reservations.</p>
              )}
              {groups.upcoming.map(([serviceId, reservations]) => (
                <ServiceReservations
                  key={serviceId}
                  serviceId={serviceId}
                  me={me}
                  service={data.services.find((s) => s.id === serviceId)}
                  reservations={reservations}
                  onChanged={() => void reload()}
                  onTurn={onTurn}
                />
              ))}
              {groups.past.length > 0 && (
                <details className="text-sm">
                  <summary className="cursor-pointer font-medium">Past and canceled ({groups.past.length})</summary>
                  <ul className="mt-2 grid gap-2">
                    {groups.past.map((reservation) => (
                      <li key={reservation.id} className="flex flex-wrap items-center gap-2">
                        <span>{serviceName(reservation.service_id)}</span>
                        <span className="text-muted-foreground">{formatDateTime(reservation.time_slot)}</span>
                        <StatusBadge status={reservation.status} />
                      </li>
                    ))}
                  </ul>
                </details>
              )}
            </CardContent>
          </Card>
        </div>
      )}
    </>
  );
}
