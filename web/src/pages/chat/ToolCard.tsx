/**
 * A planner tool call in an answer, shown as the record it made or found (never raw JSON):
 * tools' outputs are src/everything_app/planner/tools.py's `{task}`, `{event}`, `{expense}`,
 * `{tasks}`, `{events}`, `{total, count}`.
 */
import type { DynamicToolUIPart, ToolUIPart } from "ai";
import { getToolName } from "ai";
import { Link } from "wouter";

import { Badge } from "@/components/ui/badge";
import { Spinner } from "@/components/ui/spinner";
import { formatDate, formatDateTime, formatMoney, formatTime } from "@/lib/format";

type ToolPart = ToolUIPart | DynamicToolUIPart;
type Row = Record<string, unknown>;

const str = (value: unknown): string | null => (typeof value === "string" ? value : null);
const rows = (value: unknown): Row[] => (Array.isArray(value) ? (value as Row[]) : []);
const asRow = (value: unknown): Row | null =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Row) : null;

const ACTIVE: Record<string, string> = {
  create_task: "Adding a task…",
  complete_task: "Marking a task done…",
  create_event: "Adding an event…",
  create_expense: "Recording an expense…",
  list_tasks: "Looking at your tasks…",
  list_events: "Looking at your calendar…",
  list_expenses: "Adding up your spending…",
};

function Shell({ heading, badge, children }: { heading: string; badge?: string; children?: React.ReactNode }) {
  return (
    <div className="my-2 rounded-lg border bg-card p-3 text-sm text-card-foreground shadow-xs">
      <div className="flex flex-wrap items-center gap-2">
        <h3 className="font-medium">{heading}</h3>
        {badge && <Badge variant="secondary">{badge}</Badge>}
      </div>
      {children}
      <Link href="/planner" className="mt-2 inline-block text-xs underline underline-offset-4">
        Open the planner
      </Link>
    </div>
  );
}

function TaskLine({ task }: { task: Row }) {
  const due = str(task.due_date);
  return (
    <p className="mt-1">
      <span className="font-medium">{str(task.title) ?? "Untitled task"}</span>
      {due && <span className="text-muted-foreground"> · due {formatDateTime(due)}</span>}
    </p>
  );
}

function EventLine({ event }: { event: Row }) {
  const start = str(event.start_time);
  const end = str(event.end_time);
  return (
    <p className="mt-1">
      <span className="font-medium">{str(event.title) ?? "Untitled event"}</span>
      {start && (
        <span className="text-muted-foreground">
          {" "}
          · {formatDateTime(start)}
          {end && `–${formatTime(end)}`}
        </span>
      )}
    </p>
  );
}

function Output({ name, output }: { name: string; output: Row }) {
  const task = asRow(output.task);
  const event = asRow(output.event);
  const expense = asRow(output.expense);
  if (task) {
    const done = name === "complete_task";
    return (
      <Shell heading={done ? "Task done" : "Task added"} badge={task.is_complete ? "done" : "open"}>
        <TaskLine task={task} />
      </Shell>
    );
  }
  if (event) {
    return (
      <Shell heading="Event added">
        <EventLine event={event} />
      </Shell>
    );
  }
  if (expense) {
    return (
      <Shell heading="Expense recorded">
        <p className="mt-1">
          <span className="font-medium">{formatMoney(String(expense.amount ?? ""))}</span>
          <span className="text-muted-foreground">
            {" "}
            · {str(expense.category) ?? "uncategorised"} · {formatDate(str(expense.incurred_at))}
          </span>
        </p>
      </Shell>
    );
  }
  if (Array.isArray(output.tasks)) {
    const tasks = rows(output.tasks);
    return (
      <Shell heading={`${tasks.length}${output.more ? "+" : ""} task${tasks.length === 1 ? "" : "s"}`}>
        <ul className="mt-1">
          {tasks.slice(0, 5).map((t, index) => (
            <li key={str(t.id) ?? index}>
              <TaskLine task={t} />
            </li>
          ))}
        </ul>
      </Shell>
    );
  }
  if (Array.isArray(output.events)) {
    const events = rows(output.events);
    return (
      <Shell heading={`${events.length}${output.more ? "+" : ""} event${events.length === 1 ? "" : "s"}`}>
        <ul className="mt-1">
          {events.slice(0, 5).map((e, index) => (
            <li key={str(e.id) ?? index}>
              <EventLine event={e} />
            </li>
          ))}
        </ul>
      </Shell>
    );
  }
  if (output.total !== undefined) {
    const category = str(output.category);
    return (
      <Shell heading={category ? `Spending on ${category}` : "Spending"}>
        <p className="mt-1">
          <span className="font-medium">{formatMoney(String(output.total))}</span>
          <span className="text-muted-foreground">
            {" "}
            in {String(output.count ?? 0)} expense{output.count === 1 ? "" : "s"}
          </span>
        </p>
      </Shell>
    );
  }
  if (typeof output.error === "string") return <Failed message={output.error} />;
  return <Shell heading={`Used ${name.replace(/_/g, " ")}`} />;
}

function Failed({ message }: { message: string }) {
  return (
    <div role="note" className="my-2 rounded-lg border border-destructive/50 p-3 text-sm">
      <p className="font-medium text-destructive">The planner could not do that</p>
      <p className="mt-1">{message}</p>
    </div>
  );
}

export function ToolCard({ part }: { part: ToolPart }) {
  const name = getToolName(part);
  if (part.state === "output-available") {
    const output = asRow(part.output);
    return output ? <Output name={name} output={output} /> : <Shell heading={`Used ${name.replace(/_/g, " ")}`} />;
  }
  if (part.state === "output-error") return <Failed message={part.errorText} />;
  if (part.state === "output-denied") return <Failed message="The call was not allowed." />;
  return (
    <div className="my-2">
      <Spinner label={ACTIVE[name] ?? `Using ${name.replace(/_/g, " ")}…`} />
    </div>
  );
}
