import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import type { Interval, OpeningHours, Weekday } from "@/pages/reservations/types";
import { WEEKDAYS } from "@/pages/reservations/types";

// The API ends a day at "24:00", which a time input can not show: there it is 00:00.
const toInput = (time: string) => (time === "24:00" ? "00:00" : time);
const fromInput = (time: string, isClose: boolean) => (isClose && time === "00:00" ? "24:00" : time);
const minutes = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/** What is wrong with a day's intervals, in words, or null. */
export function hoursProblem(hours: OpeningHours): string | null {
  for (const { key, label } of WEEKDAYS) {
    const intervals = [...(hours[key] ?? [])].sort((a, b) => minutes(a.open) - minutes(b.open));
    for (const [index, interval] of intervals.entries()) {
      if (!interval.open || !interval.close) return `${label}: give both an opening and a closing time.`;
      if (minutes(interval.open) >= minutes(interval.close)) return `${label}: opening must be before closing.`;
      const next = intervals[index + 1];
      if (next && minutes(next.open) < minutes(interval.close)) return `${label}: the opening hours overlap.`;
    }
  }
  return null;
}

/** "Mon–Fri 09:00–17:00", "Every day 00:00–24:00": runs of days with the same hours, grouped. */
export function summarizeHours(hours: OpeningHours): string {
  const text = WEEKDAYS.map(({ key }) => (hours[key] ?? []).map((i) => `${i.open}–${i.close}`).join(", "));
  if (text.every((t) => t === "")) return "Closed every day";
  if (text.every((t) => t === text[0])) return `Every day ${text[0]}`;
  const runs: string[] = [];
  for (let start = 0; start < text.length; ) {
    let end = start;
    while (end + 1 < text.length && text[end + 1] === text[start]) end++;
    if (text[start]) {
      const first = WEEKDAYS[start]?.label.slice(0, 3) ?? "";
      const last = WEEKDAYS[end]?.label.slice(0, 3) ?? "";
      runs.push(`${start === end ? first : `${first}–${last}`} ${text[start]}`);
    }
    start = end + 1;
  }
  return runs.join("; ");
}

/** Per weekday: closed, or one or more intervals of local time. */
export function OpeningHoursEditor({ value, onChange }: { value: OpeningHours; onChange: (hours: OpeningHours) => void }) {
  const setDay = (day: Weekday, intervals: Interval[]) => {
    const next = { ...value };
    if (intervals.length === 0) delete next[day];
    else next[day] = intervals;
    onChange(next);
  };
  const copyToAll = (day: Weekday) => {
    const intervals = value[day] ?? [];
    const next: OpeningHours = {};
    for (const { key } of WEEKDAYS) if (intervals.length) next[key] = intervals.map((i) => ({ ...i }));
    onChange(next);
  };

  return (
    <fieldset className="grid gap-2">
      <legend className="mb-1 text-sm font-medium">Opening hours</legend>
      <p className="text-xs text-muted-foreground">
        Local time in the service&apos;s time zone. A closing time of 00:00 means midnight at the end of the day.
      </p>
      {WEEKDAYS.map(({ key, label }) => {
        const intervals = value[key] ?? [];
        const isOpen = intervals.length > 0;
        return (
          <div key={key} className="grid gap-2 rounded-md border p-2 sm:grid-cols-[8rem_1fr]">
            <label className="flex items-center gap-2 text-sm font-medium">
              <input
                type="checkbox"
                checked={isOpen}
                onChange={(event) => setDay(key, event.target.checked ? [{ open: "09:00", close: "17:00" }] : [])}
              />
              {label}
            </label>
            <div className="grid gap-2">
              {!isOpen && <span className="text-sm text-muted-foreground">Closed</span>}
              {intervals.map((interval, index) => (
                <div key={index} className="flex flex-wrap items-center gap-2">
                  <Input
                    type="time"
                    className="w-auto"
                    aria-label={`${label} opens${intervals.length > 1 ? ` (${index + 1})` : ""}`}
                    value={toInput(interval.open)}
                    required
                    onChange={(event) =>
                      setDay(
                        key,
                        intervals.map((i, n) => (n === index ? { ...i, open: fromInput(event.target.value, false) } : i)),
                      )
                    }
                  />
                  <span aria-hidden>–</span>
                  <Input
                    type="time"
                    className="w-auto"
                    aria-label={`${label} closes${intervals.length > 1 ? ` (${index + 1})` : ""}`}
                    value={toInput(interval.close)}
                    required
                    onChange={(event) =>
                      setDay(
                        key,
                        intervals.map((i, n) => (n === index ? { ...i, close: fromInput(event.target.value, true) } : i)),
                      )
                    }
                  />
                  <Button
                    size="sm"
                    variant="ghost"
                    aria-label={`Remove ${label} hours ${index + 1}`}
                    onClick={() => setDay(key, intervals.filter((_, n) => n !== index))}
                  >
                    Remove
                  </Button>
                </div>
              ))}
              {isOpen && (
                <div className="flex flex-wrap gap-2">
                  <Button
                    size="sm"
                    variant="outline"
                    aria-label={`Add hours on ${label}`}
                    onClick={() => {
                      const last = intervals[intervals.length - 1];
                      const start = last && last.close !== "24:00" ? last.close : "00:00";
                      setDay(key, [...intervals, { open: start, close: "24:00" }]);
                    }}
                  >
                    Add hours
                  </Button>
                  <Button size="sm" variant="ghost" onClick={() => copyToAll(key)}>
                    Use {label}&apos;s hours every day
                  </Button>
                </div>
              )}
            </div>
          </div>
        );
      })}
    </fieldset>
  );
}
