import { type FormEvent, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input, Select } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { api, errorMessage } from "@/lib/api";

import { JobProgress } from "./JobProgress";
import { IMPORT_ACTION, type ImportResult, type ImportTable, type Job } from "./types";

/** docs/api/planner.md: the columns each table's CSV may have (the required ones first). */
const COLUMNS: Record<ImportTable, string> = {
  events: "title, start_time, end_time, description",
  tasks: "title, is_complete, due_date",
  expenses: "amount, category, incurred_at",
};
const MAX_CHARS = 1_000_000;

function ImportSummary({ result }: { result: ImportResult }) {
  const imported = Object.entries(result.imported);
  const total = imported.reduce((sum, [, count]) => sum + (count ?? 0), 0);
  return (
    <div className="grid grid-cols-1 gap-3">
      <Alert variant={result.refused.length ? "default" : "success"}>
        {total === 1 ? "1 row imported" : `${total} rows imported`}
        {imported.length > 0 && ` (${imported.map(([table, count]) => `${table}: ${count}`).join(", ")})`}
        {result.refused.length > 0 &&
          `; ${result.refused.length === 1 ? "1 problem" : `${result.refused.length} problems`} below.`}
      </Alert>
      {result.refused.length > 0 && (
        <Table className="caption-top" scrollLabel="Rows not imported">
          <caption className="mb-2 text-left text-sm font-medium">Rows not imported</caption>
          <TableHeader>
            <TableRow>
              <TableHead>Row</TableHead>
              <TableHead>Line</TableHead>
              <TableHead>Column</TableHead>
              <TableHead>Problem</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {result.refused.map((refusal) => (
              <TableRow key={`${refusal.row}-${refusal.field ?? ""}-${refusal.reason}`}>
                <TableCell className="tabular-nums">{refusal.row}</TableCell>
                <TableCell className="tabular-nums">{refusal.line}</TableCell>
                <TableCell>{refusal.field ?? "(the row)"}</TableCell>
                <TableCell>{refusal.reason}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </div>
  );
}

/** A CSV file read in the browser and sent as `planner.import`; its job followed live. */
export function ImportCard({ available }: { available: boolean }) {
  const [table, setTable] = useState<ImportTable>("tasks");
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const file = new FormData(event.currentTarget).get("file");
    if (!(file instanceof File) || file.size === 0) return setError("Choose a CSV file first.");
    setBusy(true);
    setError(null);
    try {
      const content = await file.text();
      if (content.length > MAX_CHARS) {
        setError("The file is too large: at most 1,000,000 characters (about 10,000 rows).");
        return;
      }
      const job = await api<Job>(`/api/actions/${IMPORT_ACTION}`, {
        method: "POST",
        body: { format: "csv", table, content },
      });
      setJobId(job.id);
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card>
      <CardHeader>
        <CardTitle>Import a CSV</CardTitle>
        <CardDescription>
          Add events, tasks or expenses to your planner from a spreadsheet. The first row names the columns.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid grid-cols-1 gap-4">
        {!available && <Alert>This server does not offer imports.</Alert>}
        {error && <Alert variant="destructive">{error}</Alert>}
        <form className="grid grid-cols-1 gap-3" onSubmit={submit} noValidate>
          <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
            <Field label="CSV file" className="content-start">
              {(p) => <Input {...p} name="file" type="file" accept=".csv,text/csv" className="py-1 file:mr-3 file:border-0 file:bg-transparent file:text-sm file:font-medium file:text-foreground" required />}
            </Field>
            <Field label="Import into" className="content-start" hint={`Columns: ${COLUMNS[table]}.`}>
              {(p) => (
                <Select {...p} name="table" value={table} onChange={(e) => setTable(e.target.value as ImportTable)}>
                  <option value="tasks">Tasks</option>
                  <option value="events">Events</option>
                  <option value="expenses">Expenses</option>
                </Select>
              )}
            </Field>
          </div>
          <div>
            <Button type="submit" disabled={busy || !available}>
              {busy ? "Sending…" : "Import"}
            </Button>
          </div>
        </form>
        {jobId && (
          <JobProgress<ImportResult>
            key={jobId}
            jobId={jobId}
            label="Import"
            renderResult={(result) => <ImportSummary result={result} />}
          />
        )}
      </CardContent>
    </Card>
  );
}
