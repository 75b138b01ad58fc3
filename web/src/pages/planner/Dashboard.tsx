/**
 * The dashboard row (seed 002): today's events, open tasks, spending by category for a month.
 * Each card is its own live query, so a record added anywhere (another tab, chat) shows here
 * without a reload. `GET /api/dashboard` only knows the current month and is not live, so the
 * month's spending is added up here from `expenses.list`, in exact cents.
 */
import { useEffect, useId, useMemo, useState } from "react";

import { BarChart, type BarSeries } from "@/components/charts/BarChart";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { api, errorMessage, type Page } from "@/lib/api";
import { formatDateTime, formatTime, localTimeZone } from "@/lib/format";
import { useLiveQuery } from "@/lib/live";
import { cn } from "@/lib/utils";

import { dayRange, monthLabel, monthRange, monthValue, msUntilTomorrow } from "./dates";
import { formatCents, totalsByCategory } from "./money";
import { LiveErrorText } from "./parts";
import { CompleteBox } from "./TasksTable";
import type { Expense, PlannerEvent, Task } from "./types";

const MAX_LIMIT = 200;
const OPEN_TASKS_SHOWN = 8;

/** Today's local date, moving on at midnight while the page stays open. */
function useToday(): Date {
  const [today, setToday] = useState(() => new Date());
  useEffect(() => {
    const timer = setTimeout(() => setToday(new Date()), msUntilTomorrow(today) + 1000);
    return () => clearTimeout(timer);
  }, [today]);
  return today;
}

/** Whether the dark theme is on; the chart reads its colours once, so it is redrawn on a switch. */
function useDarkTheme(): boolean {
  const root = document.documentElement;
  const [dark, setDark] = useState(() => root.classList.contains("dark"));
  useEffect(() => {
    const observer = new MutationObserver(() => setDark(root.classList.contains("dark")));
    observer.observe(root, { attributes: true, attributeFilter: ["class"] });
    return () => observer.disconnect();
  }, [root]);
  return dark;
}

function sameLocalDay(a: Date, b: Date): boolean {
  return a.toDateString() === b.toDateString();
}

function eventWhen(event: PlannerEvent, today: Date): string {
  const start = new Date(event.start_time);
  const end = new Date(event.end_time);
  if (sameLocalDay(start, today) && sameLocalDay(end, today))
    return `${formatTime(event.start_time)}–${formatTime(event.end_time)}`;
  return `${formatDateTime(event.start_time)} – ${formatDateTime(event.end_time)}`;
}

function TodayCard() {
  const today = useToday();
  const range = useMemo(() => dayRange(today), [today]);
  const { data, error } = useLiveQuery<Page<PlannerEvent>>("events.list", {
    ...range,
    sort: "start_time",
    limit: MAX_LIMIT,
  });
  const heading = useId();
  return (
    <Card aria-labelledby={heading} role="region" className="min-w-0">
      <CardHeader>
        <CardTitle id={heading}>Today</CardTitle>
        <CardDescription>
          {new Intl.DateTimeFormat(undefined, { dateStyle: "full" }).format(today)}{" "}
          <span className="whitespace-nowrap">({localTimeZone()})</span>
        </CardDescription>
      </CardHeader>
      <CardContent>
        {error ? (
          <LiveErrorText error={error} />
        ) : !data ? (
          <Spinner />
        ) : data.data.length === 0 ? (
          <p className="text-sm text-muted-foreground">Nothing planned today.</p>
        ) : (
          <ul className="grid gap-2" aria-label="Today's events">
            {data.data.map((event) => (
              <li key={event.id} className="grid gap-0.5 rounded-md border px-3 py-2">
                <span className="font-medium">{event.title}</span>
                <span className="text-xs text-muted-foreground">{eventWhen(event, today)}</span>
              </li>
            ))}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}

/** Soonest due first, undated last, then oldest first (as the API's dashboard orders them). */
function bySoonestDue(a: Task, b: Task): number {
  if (a.due_date !== b.due_date) {
    if (a.due_date === null) return 1;
    if (b.due_date === null) return -1;
    return a.due_date < b.due_date ? -1 : 1;
  }
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0;
}

function OpenTasksCard() {
  const { data, error } = useLiveQuery<Page<Task>>("tasks.list", { is_complete: false, limit: MAX_LIMIT });
  const heading = useId();
  const tasks = useMemo(() => (data ? [...data.data].sort(bySoonestDue) : []), [data]);
  const now = new Date().toISOString();
  const count = data ? `${data.data.length}${data.next_cursor ? "+" : ""} open` : undefined;
  return (
    <Card aria-labelledby={heading} role="region" className="min-w-0">
      <CardHeader>
        <CardTitle id={heading}>Open tasks</CardTitle>
        <CardDescription>{count ?? "Soonest due first"}</CardDescription>
      </CardHeader>
      <CardContent>
        {error ? (
          <LiveErrorText error={error} />
        ) : !data ? (
          <Spinner />
        ) : tasks.length === 0 ? (
          <p className="text-sm text-muted-foreground">Nothing to do. Well done.</p>
        ) : (
          <ul className="grid gap-2" aria-label="Open tasks, soonest due first">
            {tasks.slice(0, OPEN_TASKS_SHOWN).map((task) => (
              <li key={task.id} className="flex items-start gap-3 rounded-md border px-3 py-2">
                <span className="pt-0.5">
                  <CompleteBox task={task} />
                </span>
                <span className="grid min-w-0 gap-0.5">
                  <span className="font-medium break-words">{task.title}</span>
                  <span className="flex flex-wrap items-center gap-2 text-xs text-muted-foreground">
                    {task.due_date ? `Due ${formatDateTime(task.due_date)}` : "No due date"}
                    {task.due_date && task.due_date < now && <Badge variant="destructive">Overdue</Badge>}
                  </span>
                </span>
              </li>
            ))}
          </ul>
        )}
        {tasks.length > OPEN_TASKS_SHOWN && (
          <p className="mt-2 text-xs text-muted-foreground">
            and {tasks.length - OPEN_TASKS_SHOWN} more in the tasks table.
          </p>
        )}
      </CardContent>
    </Card>
  );
}

/**
 * Every expense of a month: the first page (up to 200) is live; should there be more, the
 * rest are read page by page again each time the live page changes, so the sum stays exact.
 */
function useMonthExpenses(range: { from: string; to: string } | null): {
  rows: Expense[] | undefined;
  error: string | null;
} {
  const first = useLiveQuery<Page<Expense>>("expenses.list", range ? { ...range, limit: MAX_LIMIT } : null);
  const [rest, setRest] = useState<{ after: Page<Expense>; rows: Expense[] } | null>(null);
  const [restError, setRestError] = useState<string | null>(null);
  const page = first.data;
  useEffect(() => {
    if (!range || !page?.next_cursor) return undefined;
    const controller = new AbortController();
    (async () => {
      const rows: Expense[] = [];
      let cursor: string | null = page.next_cursor;
      while (cursor) {
        const next: Page<Expense> = await api<Page<Expense>>("/api/expenses", {
          query: { ...range, limit: MAX_LIMIT, cursor },
          signal: controller.signal,
        });
        rows.push(...next.data);
        cursor = next.next_cursor;
      }
      setRest({ after: page, rows });
      setRestError(null);
    })().catch((failure: unknown) => {
      if (!controller.signal.aborted) setRestError(errorMessage(failure));
    });
    return () => controller.abort();
  }, [page, range]);
  if (first.error) return { rows: undefined, error: first.error.message };
  if (!page) return { rows: undefined, error: null };
  if (!page.next_cursor) return { rows: page.data, error: null };
  if (rest?.after === page) return { rows: [...page.data, ...rest.rows], error: null };
  return { rows: undefined, error: restError };
}

function SpendingCard({ className }: { className?: string }) {
  const [month, setMonth] = useState(() => monthValue());
  const range = useMemo(() => monthRange(month), [month]);
  const { rows, error } = useMonthExpenses(range);
  const dark = useDarkTheme();
  const heading = useId();
  const pickerId = useId();
  const totals = useMemo(() => (rows ? totalsByCategory(rows) : null), [rows]);
  const labels = useMemo(() => totals?.categories.map((c) => c.category) ?? [], [totals]);
  const series = useMemo<BarSeries[]>(
    () => [{ label: "Spent", values: totals?.categories.map((c) => Number(c.cents) / 100) ?? [] }],
    [totals],
  );
  const title = `Spending by category, ${monthLabel(month)}`;
  return (
    <Card aria-labelledby={heading} role="region" className={cn("min-w-0", className)}>
      <CardHeader className="flex-row flex-wrap items-end justify-between gap-3">
        <div className="grid gap-1">
          <CardTitle id={heading}>Spending by category</CardTitle>
          <CardDescription>
            {totals ? (
              <>
                Total{" "}
                <span className="font-semibold text-foreground tabular-nums" data-testid="month-total">
                  {formatCents(totals.total)}
                </span>{" "}
                in {monthLabel(month)}
              </>
            ) : (
              monthLabel(month)
            )}
          </CardDescription>
        </div>
        <div className="grid gap-1.5">
          <Label htmlFor={pickerId}>Month</Label>
          <Input
            id={pickerId}
            type="month"
            className="w-44"
            value={month}
            required
            // Browsers without a month picker give free text: only a whole month is taken.
            onChange={(event) => monthRange(event.target.value) && setMonth(event.target.value)}
          />
        </div>
      </CardHeader>
      <CardContent>
        {error ? (
          <p className="text-sm text-destructive">Could not add up the month: {error}</p>
        ) : !totals ? (
          <Spinner />
        ) : totals.categories.length === 0 ? (
          <p className="text-sm text-muted-foreground">No spending in {monthLabel(month)}.</p>
        ) : (
          <BarChart
            key={dark ? "dark" : "light"}
            title={title}
            labels={labels}
            series={series}
            showTable
            formatValue={formatTwoDecimals}
            // A track that may shrink below the canvas's drawn width, so Chart.js can redraw
            // it narrower when the window narrows (an "auto" track keeps the old width).
            className="grid-cols-[minmax(0,1fr)]"
          />
        )}
      </CardContent>
    </Card>
  );
}

// Chart values are cents / 100, exact to the cent for any sum below 2^53 cents.
const formatTwoDecimals = (value: number): string => value.toFixed(2);

export function DashboardCards() {
  return (
    <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
      <TodayCard />
      <OpenTasksCard />
      <SpendingCard className="md:col-span-2 xl:col-span-1" />
    </div>
  );
}
