/**
 * A bar chart (Chart.js, registered piecewise so only bars are bundled; lazy routes only).
 * The canvas is an image to assistive technology; the same figures follow as a table that
 * screen readers read (visually hidden unless `showTable`).
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";
import { useEffect, useRef } from "react";

import { cn } from "@/lib/utils";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

export interface BarSeries {
  label: string;
  values: number[];
}

const PALETTE = ["#6366f1", "#f59e0b", "#10b981", "#ef4444", "#06b6d4", "#a855f7", "#84cc16", "#ec4899"];

export function BarChart({
  title,
  labels,
  series,
  stacked = false,
  showTable = false,
  formatValue = (value: number) => String(value),
  labelHeading = "Label",
  className,
}: {
  title: string;
  labels: string[];
  series: BarSeries[];
  stacked?: boolean;
  showTable?: boolean;
  formatValue?: (value: number) => string;
  /** The table's first column heading (what the bars are: "Category", "Model"). */
  labelHeading?: string;
  className?: string;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<"bar"> | null>(null);

  useEffect(() => {
    if (!canvas.current) return undefined;
    const dark = document.documentElement.classList.contains("dark");
    const grid = dark ? "rgba(255,255,255,0.1)" : "rgba(0,0,0,0.08)";
    const text = dark ? "#d4d4d8" : "#3f3f46";
    chart.current = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels,
        datasets: series.map((s, i) => ({
          label: s.label,
          data: s.values,
          backgroundColor: PALETTE[i % PALETTE.length],
          borderRadius: 4,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: series.length > 1, labels: { color: text } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${formatValue(Number(item.raw))}` } },
        },
        scales: {
          x: { stacked, grid: { color: grid }, ticks: { color: text } },
          y: { stacked, beginAtZero: true, grid: { color: grid }, ticks: { color: text } },
        },
      },
    });
    return () => chart.current?.destroy();
  }, [labels, series, stacked, formatValue]);

  return (
    <figure className={cn("grid gap-2", className)}>
      <div className="relative h-64">
        <canvas ref={canvas} role="img" aria-label={title} />
      </div>
      <figcaption className="sr-only">{title}</figcaption>
      {/* A table ignores `sr-only`'s 1 px width and grows to its content, so a hidden one
          would widen a phone's page: its wrapper is what is hidden. */}
      <div className={showTable ? undefined : "sr-only"}>
        <table className={cn("text-sm", showTable && "w-full")}>
          <caption className="sr-only">{title}</caption>
          <thead>
            <tr>
              <th scope="col" className="text-left font-medium">
                {labelHeading}
              </th>
              {series.map((s) => (
                <th key={s.label} scope="col" className="text-right font-medium">
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {labels.map((label, row) => (
              <tr key={label}>
                <th scope="row" className="text-left font-normal">
                  {label}
                </th>
                {series.map((s) => (
                  <td key={s.label} className="text-right tabular-nums">
                    {formatValue(s.values[row] ?? 0)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
