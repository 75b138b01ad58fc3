/**
 * `/planner`: seed 002's dashboard over seed 003's live lists. The cards on top and the three
 * tables below are all live queries; writes are the REST routes, and their results come back
 * through the socket, so this tab, another tab and chat all show the same records.
 */
import { type KeyboardEvent, useRef, useState } from "react";

import { PageHeader } from "@/components/layout/Layout";
import { cn } from "@/lib/utils";

import { DashboardCards } from "./Dashboard";
import { EventsTable } from "./EventsTable";
import { ExpensesTable } from "./ExpensesTable";
import { LiveStatus } from "./LiveStatus";
import { TasksTable } from "./TasksTable";

const TABS = [
  { id: "events", label: "Events", panel: EventsTable },
  { id: "tasks", label: "Tasks", panel: TasksTable },
  { id: "expenses", label: "Expenses", panel: ExpensesTable },
] as const;
type TabId = (typeof TABS)[number]["id"];

/** The WAI-ARIA tabs pattern: arrows, Home and End move between tabs; panels stay mounted
 * (hidden), so each keeps its live list and any half-typed form. */
function RecordTabs() {
  const [active, setActive] = useState<TabId>("events");
  const buttons = useRef<(HTMLButtonElement | null)[]>([]);

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const index = TABS.findIndex((tab) => tab.id === active);
    const moves: Record<string, number> = {
      ArrowRight: index + 1,
      ArrowLeft: index - 1,
      Home: 0,
      End: TABS.length - 1,
    };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = (target + TABS.length) % TABS.length;
    const tab = TABS[next];
    if (!tab) return;
    setActive(tab.id);
    buttons.current[next]?.focus();
  }

  return (
    <section aria-labelledby="planner-records" className="mt-8 grid gap-4">
      <h2 id="planner-records" className="text-xl font-semibold tracking-tight">
        Your records
      </h2>
      <div
        role="tablist"
        aria-label="Records"
        className="inline-flex w-fit gap-1 rounded-lg bg-muted p-1"
        onKeyDown={onKeyDown}
      >
        {TABS.map((tab, index) => (
          <button
            key={tab.id}
            ref={(element) => {
              buttons.current[index] = element;
            }}
            type="button"
            role="tab"
            id={`planner-tab-${tab.id}`}
            aria-selected={active === tab.id}
            aria-controls={`planner-panel-${tab.id}`}
            tabIndex={active === tab.id ? 0 : -1}
            onClick={() => setActive(tab.id)}
            className={cn(
              "rounded-md px-4 py-1.5 text-sm font-medium text-muted-foreground",
              active === tab.id && "bg-background text-foreground shadow-xs",
            )}
          >
            {tab.label}
          </button>
        ))}
      </div>
      {TABS.map(({ id, panel: Panel }) => (
        <div
          key={id}
          role="tabpanel"
          id={`planner-panel-${id}`}
          aria-labelledby={`planner-tab-${id}`}
          hidden={active !== id}
          tabIndex={0}
          className="rounded-xl border bg-card p-4 text-card-foreground"
        >
          <Panel />
        </div>
      ))}
    </section>
  );
}

export default function PlannerPage() {
  return (
    <>
      <PageHeader
        title="Planner"
        description="Your day, your tasks and your spending. Changes made anywhere show up here at once."
        actions={<LiveStatus />}
      />
      <DashboardCards />
      <RecordTabs />
    </>
  );
}
