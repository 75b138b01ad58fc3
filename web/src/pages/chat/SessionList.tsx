/** Your chats, live (`chat.sessions`): open one, start one, rename one in place, delete one
 * after confirming. */
import { type FormEvent, useState } from "react";
import { Link } from "wouter";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Spinner } from "@/components/ui/spinner";
import { useToast } from "@/components/ui/toast";
import { api, errorMessage } from "@/lib/api";
import { formatDateTime } from "@/lib/format";
import { cn } from "@/lib/utils";

import type { ChatSession } from "./types";

export const untitled = (session: ChatSession): string => session.title?.trim() || "Untitled chat";

function PencilIcon() {
  return (
    <svg viewBox="0 0 24 24" className="size-4" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden>
      <path d="M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4Z" />
    </svg>
  );
}

function TrashIcon() {
  return (
    <svg viewBox="0 0 24 24" className="size-4" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden>
      <path d="M3 6h18M8 6V4h8v2M19 6l-1 14H6L5 6M10 11v6M14 11v6" />
    </svg>
  );
}

function RenameForm({ session, onDone }: { session: ChatSession; onDone: () => void }) {
  const [title, setTitle] = useState(session.title ?? "");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!title.trim()) {
      setError("A title cannot be empty.");
      return;
    }
    setBusy(true);
    try {
      await api(`/api/chat/sessions/${session.id}`, { method: "PATCH", body: { title: title.trim() } });
      onDone();
    } catch (failure) {
      setError(errorMessage(failure));
      setBusy(false);
    }
  }

  return (
    <form onSubmit={save} className="grid gap-1.5 rounded-md border p-2">
      <label htmlFor={`rename-${session.id}`} className="text-xs font-medium">
        New title
      </label>
      <Input
        id={`rename-${session.id}`}
        value={title}
        maxLength={200}
        autoFocus
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `rename-${session.id}-error` : undefined}
        onChange={(event) => setTitle(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") onDone();
        }}
        className="h-8"
      />
      {error && (
        <p id={`rename-${session.id}-error`} className="text-xs text-destructive">
          {error}
        </p>
      )}
      <div className="flex gap-1.5">
        <Button type="submit" size="sm" disabled={busy}>
          Save
        </Button>
        <Button type="button" size="sm" variant="ghost" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

export function SessionList({
  sessions,
  error,
  activeId,
  onNew,
  onOpen,
  onDeleted,
  onMore,
}: {
  sessions: ChatSession[] | undefined;
  error: string | null;
  activeId: string;
  onNew: () => void;
  onOpen: () => void;
  onDeleted: (id: string) => void;
  /** Show more chats (absent when all are shown). */
  onMore?: () => void;
}) {
  const toast = useToast();
  const [renaming, setRenaming] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<ChatSession | null>(null);
  const [busy, setBusy] = useState(false);

  async function confirmDelete() {
    if (!deleting) return;
    setBusy(true);
    try {
      await api(`/api/chat/sessions/${deleting.id}`, { method: "DELETE" });
      onDeleted(deleting.id);
      toast({ title: "Chat deleted", description: untitled(deleting), variant: "success" });
      setDeleting(null);
    } catch (failure) {
      toast({ title: "Could not delete the chat", description: errorMessage(failure), variant: "destructive" });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex min-h-0 flex-1 flex-col gap-2">
      <div className="flex items-center justify-between gap-2">
        <h2 id="chats-heading" className="text-sm font-semibold">
          Chats
        </h2>
        <Button size="sm" onClick={onNew}>
          New chat
        </Button>
      </div>
      {error && <Alert variant="destructive">{error}</Alert>}
      {!sessions && !error && <Spinner label="Loading chats" />}
      {sessions?.length === 0 && <p className="text-sm text-muted-foreground">No chats yet.</p>}
      <ul aria-labelledby="chats-heading" className="-mx-1 min-h-0 flex-1 overflow-y-auto px-1">
        {sessions?.map((session) => (
          <li key={session.id} className="py-0.5">
            {renaming === session.id ? (
              <RenameForm session={session} onDone={() => setRenaming(null)} />
            ) : (
              <div
                className={cn(
                  "group flex items-center gap-1 rounded-md hover:bg-accent",
                  session.id === activeId && "bg-accent",
                )}
              >
                <Link
                  href={`/chat/${session.id}`}
                  onClick={onOpen}
                  aria-current={session.id === activeId ? "page" : undefined}
                  className="min-w-0 flex-1 rounded-md px-2 py-1.5 text-sm"
                >
                  <span className="block truncate font-medium">{untitled(session)}</span>
                  <span className="block truncate text-xs text-muted-foreground">
                    {formatDateTime(session.updated_at)}
                  </span>
                </Link>
                <Button
                  size="icon"
                  variant="ghost"
                  className="size-8 shrink-0"
                  aria-label={`Rename “${untitled(session)}”`}
                  onClick={() => setRenaming(session.id)}
                >
                  <PencilIcon />
                </Button>
                <Button
                  size="icon"
                  variant="ghost"
                  className="size-8 shrink-0"
                  aria-label={`Delete “${untitled(session)}”`}
                  onClick={() => setDeleting(session)}
                >
                  <TrashIcon />
                </Button>
              </div>
            )}
          </li>
        ))}
        {onMore && (
          <li className="py-1">
            <Button size="sm" variant="ghost" className="w-full" onClick={onMore}>
              Show more chats
            </Button>
          </li>
        )}
      </ul>
      <Dialog open={deleting !== null} onClose={() => setDeleting(null)} title="Delete this chat?">
        <p className="text-sm">
          “{deleting ? untitled(deleting) : ""}” and all its messages will be deleted. This cannot be undone.
        </p>
        <div className="mt-4 flex justify-end gap-2">
          <Button variant="ghost" onClick={() => setDeleting(null)}>
            Cancel
          </Button>
          <Button variant="destructive" disabled={busy} onClick={() => void confirmDelete()}>
            {busy ? "Deleting…" : "Delete"}
          </Button>
        </div>
      </Dialog>
    </div>
  );
}
