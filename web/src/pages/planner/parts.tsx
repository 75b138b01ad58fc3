/** Pieces the three planner tables share: in-row fields, delete with confirmation, list states. */
import {
  type InputHTMLAttributes,
  type KeyboardEvent,
  type ReactNode,
  useEffect,
  useId,
  useRef,
  useState,
} from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Spinner } from "@/components/ui/spinner";
import { TableCell, TableRow } from "@/components/ui/table";
import { api, errorMessage } from "@/lib/api";
import type { LiveError } from "@/lib/live";

import type { LiveList } from "./useLiveList";

/** An input inside a table row: labelled for assistive technology, its error under it. */
export function CellInput({
  label,
  error,
  ...props
}: InputHTMLAttributes<HTMLInputElement> & { label: string; error?: string }) {
  const id = useId();
  return (
    <div className="grid min-w-32 gap-1">
      <Input
        aria-label={label}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        {...props}
      />
      {error && (
        <p id={`${id}-error`} className="text-xs text-destructive">
          {error}
        </p>
      )}
    </div>
  );
}

/** A form-wide error (a rule over several fields, a lost connection). */
export function FormError({ message }: { message: string | null }) {
  return message ? <Alert variant="destructive">{message}</Alert> : null;
}

/** "Delete" with a confirmation dialog naming the record; the live list drops the row. */
export function DeleteButton({ path, name, kind }: { path: string; name: string; kind: string }) {
  const [open, setOpen] = useState(false);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const trigger = useRef<HTMLSpanElement>(null);
  const focusAfterClose = useRef<HTMLElement | null>(null);

  function closed() {
    setOpen(false);
    focusAfterClose.current?.focus();
    focusAfterClose.current = null;
  }

  // The row, and the button the dialog would give focus back to, are about to go: its panel
  // takes focus instead, once the dialog has closed (a modal makes the rest inert) or, when
  // the live list drops the row first, once the row is gone.
  useEffect(
    () => () => {
      focusAfterClose.current?.focus();
    },
    [],
  );

  async function confirm() {
    setPending(true);
    setError(null);
    focusAfterClose.current = trigger.current?.closest<HTMLElement>("[role=tabpanel]") ?? null;
    try {
      await api<void>(path, { method: "DELETE" });
      setOpen(false);
    } catch (failure) {
      focusAfterClose.current = null;
      setError(errorMessage(failure));
    } finally {
      setPending(false);
    }
  }

  return (
    <span ref={trigger}>
      <Button
        variant="ghost"
        size="sm"
        className="text-destructive"
        onClick={() => setOpen(true)}
        aria-label={`Delete ${kind} ${name}`}
      >
        Delete
      </Button>
      <Dialog open={open} onClose={closed} title={`Delete this ${kind}?`}>
        <p className="mb-4 text-sm">
          <span className="font-medium">{name}</span> will be deleted. This cannot be undone.
        </p>
        <FormError message={error} />
        <div className="mt-4 flex justify-end gap-2">
          <Button variant="outline" onClick={() => setOpen(false)} disabled={pending}>
            Cancel
          </Button>
          <Button variant="destructive" onClick={() => void confirm()} disabled={pending}>
            {pending ? "Deleting…" : "Delete"}
          </Button>
        </div>
      </Dialog>
    </span>
  );
}

/** Loading, error and empty rows of a live table. */
export function ListStateRow({
  list,
  columns,
  empty,
}: {
  list: { rows: readonly unknown[] | undefined; error: LiveError | null };
  columns: number;
  empty: string;
}) {
  let content: ReactNode = null;
  if (list.error) content = <LiveErrorText error={list.error} />;
  else if (!list.rows) content = <Spinner />;
  else if (list.rows.length === 0) content = <span className="text-muted-foreground">{empty}</span>;
  if (!content) return null;
  return (
    <TableRow>
      <TableCell colSpan={columns} className="py-6 text-center">
        {content}
      </TableCell>
    </TableRow>
  );
}

export function LiveErrorText({ error }: { error: LiveError }) {
  return <span className="text-destructive">Could not load the list: {error.message}</span>;
}

export function LoadMore({
  list,
  label,
}: {
  list: Pick<LiveList<unknown>, "hasMore" | "loadingMore" | "loadMore">;
  label: string;
}) {
  if (!list.hasMore) return null;
  return (
    <div className="mt-3 flex justify-center">
      <Button variant="outline" size="sm" onClick={list.loadMore} disabled={list.loadingMore}>
        {list.loadingMore ? "Loading…" : `Load more ${label}`}
      </Button>
    </div>
  );
}

/** Which row is being edited; when an edit ends, focus goes back to that row's Edit button
 * (the row is drawn anew, so without this the keyboard user would be sent to the page top). */
export function useRowEditing(): {
  editing: string | null;
  start: (id: string) => void;
  finish: () => void;
  returnsFocus: (id: string) => boolean;
} {
  const [editing, setEditing] = useState<string | null>(null);
  const [finished, setFinished] = useState<string | null>(null);
  return {
    editing,
    start: (id) => {
      setFinished(null);
      setEditing(id);
    },
    finish: () => {
      setFinished(editing);
      setEditing(null);
    },
    returnsFocus: (id) => finished === id,
  };
}

/** Escape in an edited row cancels the edit. */
export const cancelOnEscape =
  (cancel: () => void) =>
  (event: KeyboardEvent<HTMLTableRowElement>): void => {
    if (event.key === "Escape") cancel();
  };
