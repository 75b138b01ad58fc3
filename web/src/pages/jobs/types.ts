/** The shapes of `/api/jobs` and `/api/actions` (docs/api/jobs.md) and of the two actions'
 * results (docs/api/planner.md `planner.import`, docs/api/auth.md "Export your data"). */

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "canceled";

export interface Job<R = unknown> {
  id: string;
  kind: string;
  status: JobStatus;
  /** 0 to 100 */
  progress: number;
  message: string;
  result: R | null;
  error: string | null;
  attempts: number;
  max_attempts: number;
  run_at: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

export interface Action {
  name: string;
  summary: string;
  input_schema: Record<string, unknown>;
}

export type ImportTable = "events" | "tasks" | "expenses";

export interface ImportRefusal {
  table: string;
  row: number;
  line: number;
  field: string | null;
  reason: string;
}

export interface ImportResult {
  imported: Partial<Record<ImportTable, number>>;
  refused: ImportRefusal[];
}

export interface ExportResult {
  export_id: string;
  url: string;
  expires_at: string;
  size: number;
  counts: Record<string, number>;
}

export const FINISHED: ReadonlySet<JobStatus> = new Set(["succeeded", "failed", "canceled"]);

export const IMPORT_ACTION = "planner.import";
export const EXPORT_ACTION = "account.export";
