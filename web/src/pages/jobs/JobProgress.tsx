import type { ReactNode } from "react";

import { Alert } from "@/components/ui/alert";
import { Spinner } from "@/components/ui/spinner";
import { useLiveQuery } from "@/lib/live";

import { JobStatusBadge } from "./JobStatusBadge";
import type { Job, JobStatus } from "./types";

/** Their last progress words ("Reading the file") would read as if the job went on. */
const FINISHED_BADLY: ReadonlySet<JobStatus> = new Set(["failed", "canceled"]);

/**
 * One job followed live (`jobs.get`): a progress bar with the job's own words while it runs,
 * then `renderResult` with its result, or its error.
 */
export function JobProgress<R>({
  jobId,
  label,
  renderResult,
}: {
  jobId: string;
  label: string;
  renderResult: (result: R) => ReactNode;
}) {
  const { data: job, error } = useLiveQuery<Job<R>>("jobs.get", { id: jobId });
  if (error) return <Alert variant="destructive">{error.message}</Alert>;
  if (!job) return <Spinner label="Starting" />;

  return (
    <div className="grid grid-cols-1 gap-3" aria-live="polite">
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <span className="font-medium">{label}</span>
        <JobStatusBadge status={job.status} />
        {job.message && !FINISHED_BADLY.has(job.status) && <span className="text-muted-foreground">{job.message}</span>}
      </div>
      {(job.status === "queued" || job.status === "running") && (
        <div
          role="progressbar"
          aria-label={`${label} progress`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={job.progress}
          className="h-2 w-full overflow-hidden rounded-full bg-muted"
        >
          <div className="h-full bg-primary transition-[width]" style={{ width: `${job.progress}%` }} />
        </div>
      )}
      {job.status === "succeeded" && job.result !== null && renderResult(job.result)}
      {job.status === "failed" && <Alert variant="destructive">{job.error ?? "The job failed."}</Alert>}
      {job.status === "canceled" && <Alert>The job was canceled.</Alert>}
    </div>
  );
}
