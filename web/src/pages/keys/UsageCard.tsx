import { useEffect, useMemo, useState } from "react";

import { BarChart, type BarSeries } from "@/components/charts/BarChart";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { api, errorMessage } from "@/lib/api";

import type { UsageReport, UsageTotals } from "./types";

const PERIODS = [
  { days: 1, label: "Last 24 hours" },
  { days: 7, label: "Last 7 days" },
  { days: 30, label: "Last 30 days" },
  { days: 90, label: "Last 90 days" },
  { days: 365, label: "Last 12 months" },
] as const;

const DAY_MS = 86_400_000;
const number = new Intl.NumberFormat();
// Module-level, so the chart is not rebuilt on every render (it watches its props).
const formatTokens = (value: number): string => number.format(value);

function tokenSeries(rows: UsageTotals[]): BarSeries[] {
  return [
    { label: "Input tokens", values: rows.map((r) => r.input_tokens) },
    { label: "Output tokens", values: rows.map((r) => r.output_tokens) },
  ];
}

/** `GET /api/usage` over a chosen period: totals, then tokens per key and per model. */
export default function UsageCard() {
  const [days, setDays] = useState<number>(30);
  const [report, setReport] = useState<UsageReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Bumped by "Refresh": usage is recorded as calls end, and is not pushed live.
  const [version, setVersion] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    const end = new Date();
    const start = new Date(end.getTime() - days * DAY_MS);
    setReport(null);
    setError(null);
    api<UsageReport>("/api/usage", {
      query: { start: start.toISOString(), end: end.toISOString() },
      signal: controller.signal,
    })
      .then(setReport)
      .catch((failure: unknown) => {
        if (!controller.signal.aborted) setError(errorMessage(failure));
      });
    return () => controller.abort();
  }, [days, version]);

  const byKey = useMemo(
    () =>
      report && {
        labels: report.by_key.map((k) => (k.api_key_id ? `${k.name ?? "?"} (${k.prefix ?? ""}…)` : "Signed-in session")),
        series: tokenSeries(report.by_key),
      },
    [report],
  );
  const byModel = useMemo(
    () => report && { labels: report.by_model.map((m) => m.model), series: tokenSeries(report.by_model) },
    [report],
  );

  return (
    <Card>
      <CardHeader className="flex-row flex-wrap items-end justify-between gap-3">
        <div className="grid grid-cols-1 gap-1">
          <CardTitle>Usage</CardTitle>
          <CardDescription>Completions served through the API, by key and by model.</CardDescription>
        </div>
        <div className="flex items-end gap-2">
          <div className="grid gap-1.5">
            <Label htmlFor="usage-period">Period</Label>
            <Select id="usage-period" className="w-auto" value={days} onChange={(e) => setDays(Number(e.target.value))}>
              {PERIODS.map((p) => (
                <option key={p.days} value={p.days}>
                  {p.label}
                </option>
              ))}
            </Select>
          </div>
          <Button variant="outline" onClick={() => setVersion((v) => v + 1)} disabled={!report && !error}>
            Refresh
          </Button>
        </div>
      </CardHeader>
      <CardContent className="grid grid-cols-1 gap-6">
        {error && <Alert variant="destructive">{error}</Alert>}
        {!report && !error && <Spinner label="Loading usage" />}
        {report && (
          <>
            <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
              {(
                [
                  ["Requests", report.totals.requests],
                  ["Input tokens", report.totals.input_tokens],
                  ["Output tokens", report.totals.output_tokens],
                  ["Total tokens", report.totals.total_tokens],
                ] as const
              ).map(([label, value]) => (
                <div key={label} className="rounded-lg border p-3">
                  <dt className="text-xs text-muted-foreground">{label}</dt>
                  <dd className="text-lg font-semibold tabular-nums">{number.format(value)}</dd>
                </div>
              ))}
            </dl>
            {report.totals.requests === 0 ? (
              <p className="text-sm text-muted-foreground">
                No API calls in this period. Calls to <code>/v1/chat/completions</code> with a key show here.
              </p>
            ) : (
              <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
                {byKey && (
                  <section className="grid grid-cols-1 gap-2">
                    <h3 className="text-sm font-medium">Tokens by key</h3>
                    <BarChart title="Tokens by key" labels={byKey.labels} series={byKey.series} stacked formatValue={formatTokens} />
                  </section>
                )}
                {byModel && (
                  <section className="grid grid-cols-1 gap-2">
                    <h3 className="text-sm font-medium">Tokens by model</h3>
                    <BarChart title="Tokens by model" labels={byModel.labels} series={byModel.series} stacked formatValue={formatTokens} />
                  </section>
                )}
              </div>
            )}
          </>
        )}
      </CardContent>
    </Card>
  );
}
