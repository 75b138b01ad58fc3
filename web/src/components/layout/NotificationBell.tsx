/**
 * The notifications menu in the header: the newest 20 notifications, live
 * (`notifications.list`), with an unread count. A `queue.turn` notification that arrives
 * while the app is open (not one already there when it loaded) is also shown as a toast and,
 * when the person allowed it, as a browser notification.
 */
import { useCallback, useEffect, useId, useRef, useState } from "react";

import { Button, buttonVariants } from "@/components/ui/button";
import { useToast } from "@/components/ui/toast";
import { api, errorMessage, type Page } from "@/lib/api";
import { formatDateTime } from "@/lib/format";
import { useLiveQuery } from "@/lib/live";
import { cn } from "@/lib/utils";

interface AppNotification {
  id: string;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  created_at: string;
  read_at: string | null;
}

const TURN = "queue.turn";
const LIST_ARGS = { limit: 20 };

const browserPermission = (): NotificationPermission | "unsupported" =>
  typeof Notification === "undefined" ? "unsupported" : Notification.permission;

/** Calls `onArrival` for each notification that was not in the first result. */
function useArrivals(list: AppNotification[] | undefined, onArrival: (n: AppNotification) => void) {
  const seen = useRef<Set<string> | null>(null);
  useEffect(() => {
    if (!list) return;
    if (seen.current === null) {
      seen.current = new Set(list.map((n) => n.id)); // present at load: not news
      return;
    }
    for (const notification of list) {
      if (seen.current.has(notification.id)) continue;
      seen.current.add(notification.id);
      onArrival(notification);
    }
  }, [list, onArrival]);
}

function BellIcon() {
  return (
    <svg viewBox="0 0 24 24" className="size-5" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden>
      <path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
      <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
    </svg>
  );
}

export function NotificationBell() {
  const toast = useToast();
  const { data, error } = useLiveQuery<Page<AppNotification>>("notifications.list", LIST_ARGS);
  const [open, setOpen] = useState(false);
  const [permission, setPermission] = useState(browserPermission);
  const [failure, setFailure] = useState<string | null>(null);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const panelId = useId();
  const list = data?.data;
  const unread = list?.filter((n) => !n.read_at).length ?? 0;

  const onArrival = useCallback(
    (notification: AppNotification) => {
      if (notification.kind !== TURN || notification.read_at) return;
      toast({ title: "It's your turn", description: notification.body || notification.title, variant: "success" });
      if (browserPermission() === "granted") {
        try {
          new Notification("It's your turn", { body: notification.body || notification.title, tag: notification.id });
        } catch {
          // Some mobile browsers only notify through a service worker: the toast has said it.
        }
      }
    },
    [toast],
  );
  useArrivals(list, onArrival);

  const close = useCallback((returnFocus: boolean) => {
    setOpen(false);
    if (returnFocus) button.current?.focus();
  }, []);

  useEffect(() => {
    if (!open) return undefined;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") close(true);
    };
    const onPointer = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!panel.current?.contains(target) && !button.current?.contains(target)) close(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open, close]);

  async function markRead(ids: string[]) {
    setFailure(null);
    try {
      // The live list updates itself once the server has stored each change.
      await Promise.all(ids.map((id) => api(`/api/notifications/${id}/read`, { method: "POST" })));
    } catch (problem) {
      setFailure(errorMessage(problem));
    }
  }

  async function enableBrowserNotifications() {
    const answer = await Notification.requestPermission();
    setPermission(answer);
  }

  const label = unread > 0 ? `Notifications, ${unread} unread` : "Notifications";
  return (
    <div className="relative">
      <button
        ref={button}
        type="button"
        className={cn(buttonVariants({ variant: "ghost", size: "icon" }), "relative")}
        aria-label={label}
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((value) => !value)}
      >
        <BellIcon />
        {unread > 0 && (
          <span
            aria-hidden
            data-testid="unread-count"
            className="absolute -top-0.5 -right-0.5 min-w-5 rounded-full bg-destructive px-1 text-center text-xs leading-5 font-semibold text-destructive-foreground"
          >
            {unread >= 20 ? "20+" : unread}
          </span>
        )}
      </button>
      <div
        ref={panel}
        id={panelId}
        role="region"
        aria-label="Notifications"
        hidden={!open}
        // On a phone the bell is not at the screen's edge: the list spans the screen instead.
        className="fixed inset-x-4 top-14 z-50 rounded-xl border bg-card p-3 text-card-foreground shadow-lg sm:absolute sm:inset-x-auto sm:top-auto sm:right-0 sm:mt-2 sm:w-96"
      >
        <div className="mb-2 flex items-center justify-between gap-2">
          <h2 className="text-sm font-semibold">Notifications</h2>
          {unread > 0 && (
            <Button
              size="sm"
              variant="ghost"
              onClick={() => void markRead((list ?? []).filter((n) => !n.read_at).map((n) => n.id))}
            >
              Mark all read
            </Button>
          )}
        </div>
        {permission === "default" && (
          <div className="mb-2 flex flex-wrap items-center justify-between gap-2 rounded-md bg-muted p-2 text-xs">
            <span>Get a browser notification when it is your turn.</span>
            <Button size="sm" variant="outline" onClick={() => void enableBrowserNotifications()}>
              Enable browser notifications
            </Button>
          </div>
        )}
        {error && <p className="text-sm text-destructive">Notifications are unavailable: {error.message}</p>}
        {failure && (
          <p role="alert" className="text-sm text-destructive">
            {failure}
          </p>
        )}
        {!list && !error && <p className="text-sm text-muted-foreground">Loading…</p>}
        {list && list.length === 0 && <p className="text-sm text-muted-foreground">Nothing yet.</p>}
        {list && list.length > 0 && (
          <ul className="grid max-h-96 gap-1 overflow-y-auto">
            {list.map((n) => (
              <li
                key={n.id}
                className={cn("grid gap-0.5 rounded-md p-2 text-sm", !n.read_at && "bg-accent")}
              >
                <div className="flex items-start justify-between gap-2">
                  <p className={cn(!n.read_at && "font-semibold")}>
                    {!n.read_at && <span className="sr-only">Unread: </span>}
                    {n.title}
                  </p>
                  {!n.read_at && (
                    <Button
                      size="sm"
                      variant="ghost"
                      className="h-auto px-2 py-0.5"
                      aria-label={`Mark read: ${n.title}`}
                      onClick={() => void markRead([n.id])}
                    >
                      Mark read
                    </Button>
                  )}
                </div>
                {n.body && <p className="text-muted-foreground">{n.body}</p>}
                <p className="text-xs text-muted-foreground">{formatDateTime(n.created_at)}</p>
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
