/** Calendar events: add, edit in the row, delete; live through `events.list`, latest first. */
import { type FormEvent, useId, useState } from "react";

import { Button } from "@/components/ui/button";
import { Input, Textarea } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { api } from "@/lib/api";
import { formatDateTime, fromLocalInput, toLocalInput } from "@/lib/format";

import { nextHourSlot } from "./dates";
import { cancelOnEscape, CellInput, DeleteButton, FormError, ListStateRow, LoadMore, useRowEditing } from "./parts";
import type { EventInput, PlannerEvent } from "./types";
import { useLiveList } from "./useLiveList";
import { useSubmit } from "./useSubmit";

const ARGS = { sort: "-start_time" };

/** An empty time is sent as "" so the API names the field, rather than the page guessing. */
const instant = (value: string): string => (value ? fromLocalInput(value) : "");

function eventInput(form: FormData): EventInput {
  const description = String(form.get("description") ?? "");
  return {
    title: String(form.get("title") ?? ""),
    description: description || null,
    start_time: instant(String(form.get("start_time") ?? "")),
    end_time: instant(String(form.get("end_time") ?? "")),
  };
}

function CreateEvent() {
  const submit = useSubmit();
  // Fresh default times each time the form is shown or reset.
  const [slot, setSlot] = useState(nextHourSlot);
  const [formKey, setFormKey] = useState(0);
  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const body = eventInput(new FormData(event.currentTarget));
    if (await submit.run(() => api<PlannerEvent>("/api/events", { method: "POST", body }))) {
      setSlot(nextHourSlot());
      setFormKey((key) => key + 1);
    }
  }
  return (
    <form key={formKey} onSubmit={create} noValidate aria-label="New event" className="grid gap-3">
      <div className="grid items-start gap-3 sm:grid-cols-2 lg:grid-cols-[minmax(0,2fr)_minmax(0,1fr)_minmax(0,1fr)_auto]">
        <Field label="Title" error={submit.fieldErrors.title}>
          {(p) => <Input {...p} name="title" required maxLength={200} placeholder="e.g. Lunch with Sam" />}
        </Field>
        <Field label="Starts" error={submit.fieldErrors.start_time}>
          {(p) => <Input {...p} name="start_time" type="datetime-local" required defaultValue={slot.start} />}
        </Field>
        <Field label="Ends" error={submit.fieldErrors.end_time}>
          {(p) => <Input {...p} name="end_time" type="datetime-local" required defaultValue={slot.end} />}
        </Field>
        <Button type="submit" className="lg:mt-5" disabled={submit.pending}>
          {submit.pending ? "Adding…" : "Add event"}
        </Button>
        <Field
          label="Description (optional)"
          error={submit.fieldErrors.description}
          className="sm:col-span-2 lg:col-span-3"
        >
          {(p) => <Textarea {...p} name="description" maxLength={2000} rows={2} />}
        </Field>
      </div>
      <FormError message={submit.formError} />
    </form>
  );
}

function EventRow({ event, onEdit, focusEdit }: { event: PlannerEvent; onEdit: () => void; focusEdit: boolean }) {
  return (
    <TableRow>
      <TableCell className="min-w-40 font-medium">{event.title}</TableCell>
      <TableCell className="min-w-48 text-muted-foreground">{event.description ?? "—"}</TableCell>
      <TableCell className="whitespace-nowrap">{formatDateTime(event.start_time)}</TableCell>
      <TableCell className="whitespace-nowrap">{formatDateTime(event.end_time)}</TableCell>
      <TableCell className="text-right whitespace-nowrap">
        <Button
          variant="ghost"
          size="sm"
          onClick={onEdit}
          autoFocus={focusEdit}
          aria-label={`Edit event ${event.title}`}
        >
          Edit
        </Button>
        <DeleteButton path={`/api/events/${event.id}`} name={event.title} kind="event" />
      </TableCell>
    </TableRow>
  );
}

function EventEditRow({ event, onDone }: { event: PlannerEvent; onDone: () => void }) {
  const formId = useId();
  const submit = useSubmit();
  const errors = submit.fieldErrors;
  async function save(formEvent: FormEvent<HTMLFormElement>) {
    formEvent.preventDefault();
    const body = eventInput(new FormData(formEvent.currentTarget));
    if (await submit.run(() => api<PlannerEvent>(`/api/events/${event.id}`, { method: "PATCH", body }))) onDone();
  }
  return (
    <TableRow className="bg-muted/40" onKeyDown={cancelOnEscape(onDone)}>
      <TableCell>
        <CellInput form={formId} name="title" label="Title" defaultValue={event.title} error={errors.title} autoFocus />
      </TableCell>
      <TableCell>
        <CellInput
          form={formId}
          name="description"
          label="Description"
          defaultValue={event.description ?? ""}
          error={errors.description}
        />
      </TableCell>
      <TableCell>
        <CellInput
          form={formId}
          name="start_time"
          type="datetime-local"
          label="Starts"
          defaultValue={toLocalInput(event.start_time)}
          error={errors.start_time}
        />
      </TableCell>
      <TableCell>
        <CellInput
          form={formId}
          name="end_time"
          type="datetime-local"
          label="Ends"
          defaultValue={toLocalInput(event.end_time)}
          error={errors.end_time}
        />
      </TableCell>
      <TableCell className="text-right">
        <form id={formId} onSubmit={save} noValidate className="flex justify-end gap-1">
          <Button type="submit" size="sm" disabled={submit.pending}>
            {submit.pending ? "Saving…" : "Save"}
          </Button>
          <Button variant="outline" size="sm" onClick={onDone}>
            Cancel
          </Button>
        </form>
        {submit.formError && (
          <p role="alert" className="mt-1 text-xs text-destructive">
            {submit.formError}
          </p>
        )}
      </TableCell>
    </TableRow>
  );
}

export function EventsTable() {
  const rows = useRowEditing();
  const list = useLiveList<PlannerEvent>("events.list", ARGS);
  return (
    <div className="grid gap-4">
      <CreateEvent />
      <Table aria-label="Events">
        <TableHeader>
          <TableRow>
            <TableHead>Title</TableHead>
            <TableHead>Description</TableHead>
            <TableHead>Starts</TableHead>
            <TableHead>Ends</TableHead>
            <TableHead className="text-right">Actions</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          <ListStateRow list={list} columns={5} empty="No events yet." />
          {list.rows?.map((event) =>
            rows.editing === event.id ? (
              <EventEditRow key={event.id} event={event} onDone={rows.finish} />
            ) : (
              <EventRow
                key={event.id}
                event={event}
                onEdit={() => rows.start(event.id)}
                focusEdit={rows.returnsFocus(event.id)}
              />
            ),
          )}
        </TableBody>
      </Table>
      <LoadMore list={list} label="events" />
    </div>
  );
}
