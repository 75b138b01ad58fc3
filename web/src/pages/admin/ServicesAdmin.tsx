import { useCallback, useEffect, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Spinner } from "@/components/ui/spinner";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { useToast } from "@/components/ui/toast";
import { api, errorMessage } from "@/lib/api";
import { durationLabel, listServices } from "@/pages/reservations/reservationsApi";
import type { Service } from "@/pages/reservations/types";

import { summarizeHours } from "./OpeningHoursEditor";
import { ServiceForm } from "./ServiceForm";

export function useServices() {
  const [services, setServices] = useState<Service[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setServices(await listServices());
      setError(null);
    } catch (failure) {
      setError(errorMessage(failure));
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { services, error, reload };
}

/** Services: create, edit (opening hours per weekday), delete. */
export function ServicesAdmin() {
  const toast = useToast();
  const { services, error, reload } = useServices();
  const [editing, setEditing] = useState<Service | "new" | null>(null);
  const [deleting, setDeleting] = useState<Service | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);

  async function remove(service: Service) {
    setDeleteError(null);
    try {
      await api(`/api/services/${service.id}`, { method: "DELETE" });
      setDeleting(null);
      toast({ title: "Service deleted", description: service.name, variant: "success" });
      void reload();
    } catch (failure) {
      setDeleteError(errorMessage(failure));
    }
  }

  return (
    <section aria-labelledby="services-heading" className="grid gap-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="services-heading" className="text-lg font-semibold">
          Services
        </h2>
        <Button onClick={() => setEditing("new")}>New service</Button>
      </div>
      {error && <Alert variant="destructive">{error}</Alert>}
      {!services && !error && <Spinner label="Loading services" />}
      {services && services.length === 0 && <p className="text-sm text-muted-foreground">No services yet.</p>}
      {services && services.length > 0 && (
        <Table>
          <TableHeader>
            <TableRow>
              <TableHead>Name</TableHead>
              <TableHead>Slot</TableHead>
              <TableHead>Places</TableHead>
              <TableHead>Opening hours</TableHead>
              <TableHead>Time zone</TableHead>
              <TableHead>
                <span className="sr-only">Actions</span>
              </TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {services.map((service) => (
              <TableRow key={service.id}>
                <TableCell className="font-medium">{service.name}</TableCell>
                <TableCell>{durationLabel(service.duration_minutes)}</TableCell>
                <TableCell>{service.capacity}</TableCell>
                <TableCell className="min-w-40 max-w-xs text-xs">{summarizeHours(service.opening_hours)}</TableCell>
                <TableCell>{service.timezone}</TableCell>
                <TableCell>
                  <div className="flex justify-end gap-2">
                    <Button size="sm" variant="outline" aria-label={`Edit ${service.name}`} onClick={() => setEditing(service)}>
                      Edit
                    </Button>
                    <Button
                      size="sm"
                      variant="outline"
                      aria-label={`Delete ${service.name}`}
                      onClick={() => {
                        setDeleteError(null);
                        setDeleting(service);
                      }}
                    >
                      Delete
                    </Button>
                  </div>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      <Dialog
        open={editing !== null}
        onClose={() => setEditing(null)}
        title={editing === "new" ? "New service" : `Edit ${editing?.name ?? "service"}`}
        className="w-[min(44rem,calc(100vw-2rem))]"
      >
        <ServiceForm
          service={editing === "new" ? null : editing}
          onCancel={() => setEditing(null)}
          onSaved={(saved) => {
            toast({ title: editing === "new" ? "Service created" : "Service saved", description: saved.name, variant: "success" });
            setEditing(null);
            void reload();
          }}
        />
      </Dialog>
      <Dialog open={deleting !== null} onClose={() => setDeleting(null)} title={`Delete ${deleting?.name ?? "service"}?`}>
        <p className="text-sm">
          It can only be deleted while nobody holds a future reservation and nobody waits in its queue.
        </p>
        {deleteError && (
          <Alert variant="destructive" className="mt-3">
            {deleteError}
          </Alert>
        )}
        <div className="mt-4 flex justify-end gap-2">
          <Button variant="outline" onClick={() => setDeleting(null)}>
            Keep it
          </Button>
          <Button variant="destructive" onClick={() => deleting && void remove(deleting)}>
            Delete service
          </Button>
        </div>
      </Dialog>
    </section>
  );
}
