/** Tasks: add, edit in the row, tick done, delete; live through `tasks.list`. */
import { type FormEvent, useId, useState } from "react";

import { Button } from "@/components/ui/button";
import { Input, Select } from "@/components/ui/input";
import { Field, Label } from "@/components/ui/label";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { useToast } from "@/components/ui/toast";
import { api, errorMessage } from "@/lib/api";
import { formatDateTime, fromLocalInput, toLocalInput } from "@/lib/format";
import { cn } from "@/lib/utils";

import { cancelOnEscape, CellInput, DeleteButton, FormError, ListStateRow, LoadMore, useRowEditing } from "./parts";
import type { Task, TaskInput } from "./types";
import { useLiveList } from "./useLiveList";
import { useSubmit } from "./useSubmit";

type Show = "all" | "open" | "done";
const FILTERS: Record<Show, Record<string, boolean>> = {
  all: {},
  open: { is_complete: false },
  done: { is_complete: true },
};

function taskInput(form: FormData): TaskInput {
  const due = String(form.get("due_date") ?? "");
  return { title: String(form.get("title") ?? ""), due_date: due ? fromLocalInput(due) : null };
}

function CreateTask() {
  const submit = useSubmit();
  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const body = taskInput(new FormData(form));
    if (await submit.run(() => api<Task>("/api/tasks", { method: "POST", body }))) form.reset();
  }
  return (
    <form onSubmit={create} noValidate aria-label="New task" className="grid gap-3">
      <div className="grid items-start gap-3 sm:grid-cols-[minmax(0,2fr)_minmax(0,1fr)_auto]">
        <Field label="Title" error={submit.fieldErrors.title}>
          {(p) => <Input {...p} name="title" required maxLength={200} placeholder="e.g. Pay rent" />}
        </Field>
        <Field label="Due (optional)" error={submit.fieldErrors.due_date}>
          {(p) => <Input {...p} name="due_date" type="datetime-local" />}
        </Field>
        <Button type="submit" className="sm:mt-5" disabled={submit.pending}>
          {submit.pending ? "Adding…" : "Add task"}
        </Button>
      </div>
      <FormError message={submit.formError} />
    </form>
  );
}

/** Ticks a task done or open. The box shows the new state at once and keeps it until the
 * live list brings the saved row; it stays focusable meanwhile (a disabled box drops focus). */
export function CompleteBox({ task }: { task: Task }) {
  const toast = useToast();
  const [shown, setShown] = useState<{ value: boolean; since: string } | null>(null);
  const [busy, setBusy] = useState(false);
  // The live row has caught up: it holds our change, or any later one (another tab's).
  if (shown && !busy && (task.is_complete === shown.value || task.updated_at !== shown.since)) setShown(null);

  async function toggle(is_complete: boolean) {
    if (busy) return;
    setShown({ value: is_complete, since: task.updated_at });
    setBusy(true);
    try {
      await api<Task>(`/api/tasks/${task.id}`, { method: "PATCH", body: { is_complete } });
    } catch (error) {
      setShown(null);
      toast({ title: "Could not update the task", description: errorMessage(error), variant: "destructive" });
    } finally {
      setBusy(false);
    }
  }
  return (
    <input
      type="checkbox"
      className="size-4 accent-primary"
      aria-label={`Done: ${task.title}`}
      aria-busy={busy || undefined}
      checked={shown?.value ?? task.is_complete}
      onChange={(event) => void toggle(event.target.checked)}
    />
  );
}

function TaskRow({ task, onEdit, focusEdit }: { task: Task; onEdit: () => void; focusEdit: boolean }) {
  return (
    <TableRow>
      <TableCell className="w-10">
        <CompleteBox task={task} />
      </TableCell>
      <TableCell className={cn("min-w-48", task.is_complete && "text-muted-foreground line-through")}>
        {task.title}
      </TableCell>
      <TableCell className="whitespace-nowrap">{formatDateTime(task.due_date)}</TableCell>
      <TableCell className="text-right whitespace-nowrap">
        <Button variant="ghost" size="sm" onClick={onEdit} autoFocus={focusEdit} aria-label={`Edit task ${task.title}`}>
          Edit
        </Button>
        <DeleteButton path={`/api/tasks/${task.id}`} name={task.title} kind="task" />
      </TableCell>
    </TableRow>
  );
}

function TaskEditRow({ task, onDone }: { task: Task; onDone: () => void }) {
  const formId = useId();
  const submit = useSubmit();
  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const body = taskInput(new FormData(event.currentTarget));
    if (await submit.run(() => api<Task>(`/api/tasks/${task.id}`, { method: "PATCH", body }))) onDone();
  }
  return (
    <TableRow className="bg-muted/40" onKeyDown={cancelOnEscape(onDone)}>
      <TableCell className="w-10">
        <CompleteBox task={task} />
      </TableCell>
      <TableCell>
        <CellInput
          form={formId}
          name="title"
          label="Title"
          defaultValue={task.title}
          error={submit.fieldErrors.title}
          autoFocus
        />
      </TableCell>
      <TableCell>
        <CellInput
          form={formId}
          name="due_date"
          type="datetime-local"
          label="Due"
          defaultValue={toLocalInput(task.due_date)}
          error={submit.fieldErrors.due_date}
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

export function TasksTable() {
  const [show, setShow] = useState<Show>("all");
  const rows = useRowEditing();
  const list = useLiveList<Task>("tasks.list", FILTERS[show]);
  const filterId = useId();
  return (
    <div className="grid gap-4">
      <CreateTask />
      <div className="flex items-center gap-2">
        <Label htmlFor={filterId}>Show</Label>
        <Select id={filterId} className="w-auto" value={show} onChange={(event) => setShow(event.target.value as Show)}>
          <option value="all">All tasks</option>
          <option value="open">Open</option>
          <option value="done">Done</option>
        </Select>
      </div>
      <Table aria-label="Tasks">
        <TableHeader>
          <TableRow>
            <TableHead>Done</TableHead>
            <TableHead>Title</TableHead>
            <TableHead>Due</TableHead>
            <TableHead className="text-right">Actions</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          <ListStateRow list={list} columns={4} empty="No tasks yet." />
          {list.rows?.map((task) =>
            rows.editing === task.id ? (
              <TaskEditRow key={task.id} task={task} onDone={rows.finish} />
            ) : (
              <TaskRow
                key={task.id}
                task={task}
                onEdit={() => rows.start(task.id)}
                focusEdit={rows.returnsFocus(task.id)}
              />
            ),
          )}
        </TableBody>
      </Table>
      <LoadMore list={list} label="tasks" />
    </div>
  );
}
