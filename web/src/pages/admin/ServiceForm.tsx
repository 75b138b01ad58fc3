import { type FormEvent, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input, Textarea } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { api, errorMessage } from "@/lib/api";
import { localTimeZone } from "@/lib/format";
import type { OpeningHours, Service, ServiceInput } from "@/pages/reservations/types";

import { hoursProblem, OpeningHoursEditor } from "./OpeningHoursEditor";

// The server's default: 09:00-17:00, Monday to Friday.
const DEFAULT_HOURS: OpeningHours = Object.fromEntries(
  (["mon", "tue", "wed", "thu", "fri"] as const).map((day) => [day, [{ open: "09:00", close: "17:00" }]]),
);

const ZONES: string[] = (() => {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  return intl.supportedValuesOf?.("timeZone") ?? [];
})();

/** Create a service, or edit one (`service` given). */
export function ServiceForm({
  service,
  onSaved,
  onCancel,
}: {
  service: Service | null;
  onSaved: (service: Service) => void;
  onCancel: () => void;
}) {
  const [hours, setHours] = useState<OpeningHours>(service?.opening_hours ?? DEFAULT_HOURS);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const problem = hoursProblem(hours);
    if (problem) {
      setError(problem);
      return;
    }
    const body: ServiceInput = {
      name: String(form.get("name")).trim(),
      description: String(form.get("description")).trim() || null,
      duration_minutes: Number(form.get("duration_minutes")),
      capacity: Number(form.get("capacity")),
      opening_hours: hours,
      timezone: String(form.get("timezone")).trim() || "UTC",
    };
    setBusy(true);
    setError(null);
    try {
      const saved = service
        ? await api<Service>(`/api/services/${service.id}`, { method: "PATCH", body })
        : await api<Service>("/api/services", { method: "POST", body });
      onSaved(saved);
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="grid gap-4" onSubmit={submit}>
      <Field label="Name">
        {(p) => <Input {...p} name="name" required maxLength={200} defaultValue={service?.name ?? ""} />}
      </Field>
      <Field label="Description">
        {(p) => <Textarea {...p} name="description" maxLength={5000} defaultValue={service?.description ?? ""} />}
      </Field>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Slot length (minutes)">
          {(p) => (
            <Input
              {...p}
              name="duration_minutes"
              type="number"
              min={1}
              max={1440}
              required
              defaultValue={service?.duration_minutes ?? 30}
            />
          )}
        </Field>
        <Field label="Places per slot">
          {(p) => (
            <Input {...p} name="capacity" type="number" min={1} max={10000} required defaultValue={service?.capacity ?? 1} />
          )}
        </Field>
      </div>
      <Field label="Time zone" hint="An IANA name, e.g. Europe/Paris.">
        {(p) => (
          <>
            <Input
              {...p}
              name="timezone"
              list="service-time-zones"
              required
              defaultValue={service?.timezone ?? localTimeZone()}
              autoComplete="off"
            />
            <datalist id="service-time-zones">
              {ZONES.map((zone) => (
                <option key={zone} value={zone} />
              ))}
            </datalist>
          </>
        )}
      </Field>
      <OpeningHoursEditor value={hours} onChange={setHours} />
      {error && <Alert variant="destructive">{error}</Alert>}
      <div className="flex justify-end gap-2">
        <Button variant="outline" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" disabled={busy}>
          {busy ? "Saving…" : service ? "Save changes" : "Create service"}
        </Button>
      </div>
    </form>
  );
}
