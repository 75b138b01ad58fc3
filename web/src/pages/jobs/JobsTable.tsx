import { useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { api, errorMessage, type Page } from "@/lib/api";
import { formatDateTime } from "@/lib/format";
import { useLiveQuery } from "@/lib/live";

import { exportHref } from "./jobLinks";
import { JobStatusBadge } from "./JobStatusBadge";
import { EXPORT_ACTION, type ExportResult, FINISHED, type Job } from "./types";

const LIST_ARGS = { limit: 50 };

const KIND_NAMES: Record<string, string> = {
  "planner.import": "Import",
  "planner.summary": "Week summary",
  "account.export": "Data export",
};

function exportResult(job: Job): ExportResult | null {
  const result = job.result as Partial<ExportResult> | null;
  return job.kind === EXPORT_ACTION && job.status === "succeeded" && result?.url ? (result as ExportResult) : null;
}

/** Your jobs, newest first, live (`jobs.list`); queued and running ones can be canceled. */
export function JobsTable() {
  const { data, error } = useLiveQuery<Page<Job>>("jobs.list", LIST_ARGS);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const [canceling, setCanceling] = useState<string | null>(null);

  async function cancel(job: Job) {
    setCanceling(job.id);
    setCancelError(null);
    try {
      await api(`/api/jobs/${job.id}/cancel`, { method: "POST" });
    } catch (failure) {
      setCancelError(errorMessage(failure));
    } finally {
      setCanceling(null);
    }
  }

  if (error) return <Alert variant="destructive">{error.message}</Alert>;
  if (!data) return <Spinner label="Loading jobs" />;
  if (data.data.length === 0) return <p className="text-sm text-muted-foreground">No jobs yet.</p>;

  return (
    <div className="grid grid-cols-1 gap-3">
      {cancelError && <Alert variant="destructive">{cancelError}</Alert>}
      <Table scrollLabel="Your jobs">
        <TableHeader>
          <TableRow>
            <TableHead>Job</TableHead>
            <TableHead>Status</TableHead>
            <TableHead>Progress</TableHead>
            <TableHead>Started</TableHead>
            <TableHead>Finished</TableHead>
            <TableHead>
              <span className="sr-only">Actions</span>
            </TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {data.data.map((job) => {
            const name = KIND_NAMES[job.kind] ?? job.kind;
            const download = exportResult(job);
            return (
              <TableRow key={job.id}>
                <TableCell className="font-medium">{name}</TableCell>
                <TableCell>
                  <JobStatusBadge status={job.status} />
                </TableCell>
                <TableCell className="max-w-64 text-muted-foreground">
                  {job.status === "failed" ? (
                    <span className="text-destructive">{job.error}</span>
                  ) : (
                    <>
                      <span className="tabular-nums">{job.progress}%</span>
                      {job.message && ` · ${job.message}`}
                    </>
                  )}
                </TableCell>
                <TableCell className="whitespace-nowrap">{formatDateTime(job.started_at ?? job.created_at)}</TableCell>
                <TableCell className="whitespace-nowrap">{formatDateTime(job.finished_at)}</TableCell>
                <TableCell className="text-right whitespace-nowrap">
                  {!FINISHED.has(job.status) && (
                    <Button
                      size="sm"
                      variant="outline"
                      disabled={canceling === job.id}
                      aria-label={`Cancel ${name} from ${formatDateTime(job.created_at)}`}
                      onClick={() => void cancel(job)}
                    >
                      Cancel
                    </Button>
                  )}
                  {download && (
                    <a href={exportHref(download)} download className="text-sm underline underline-offset-4">
                      Download<span className="sr-only"> the export from {formatDateTime(job.created_at)}</span>
                    </a>
                  )}
                </TableCell>
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
      {data.next_cursor && (
        <p className="text-sm text-muted-foreground">The newest {LIST_ARGS.limit} jobs are shown.</p>
      )}
    </div>
  );
}
