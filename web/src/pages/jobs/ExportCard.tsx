import { useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button, buttonVariants } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { api, errorMessage } from "@/lib/api";
import { formatDateTime } from "@/lib/format";

import { exportHref, formatSize } from "./jobLinks";
import { JobProgress } from "./JobProgress";
import { EXPORT_ACTION, type ExportResult, type Job } from "./types";

export function ExportDownload({ result }: { result: ExportResult }) {
  const rows = Object.values(result.counts).reduce((sum, n) => sum + n, 0);
  return (
    <div className="grid grid-cols-1 gap-2">
      <div>
        <a href={exportHref(result)} download className={buttonVariants({ variant: "default" })}>
          Download the archive ({formatSize(result.size)})
        </a>
      </div>
      <p className="text-sm text-muted-foreground">
        {rows} records. The link works until {formatDateTime(result.expires_at)}; keep it as you would the archive.
      </p>
    </div>
  );
}

/** `account.export`: every record the account owns as one zip, fetched with a signed link. */
export function ExportCard({ available }: { available: boolean }) {
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function start() {
    setBusy(true);
    setError(null);
    try {
      const job = await api<Job>(`/api/actions/${EXPORT_ACTION}`, { method: "POST", body: {} });
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
        <CardTitle>Export my data</CardTitle>
        <CardDescription>
          Everything your account holds (profile, chats, planner, reservations, API key names, usage) as a zip of JSON
          files.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid grid-cols-1 gap-4">
        {!available && <Alert>This server does not offer exports.</Alert>}
        {error && <Alert variant="destructive">{error}</Alert>}
        <div>
          <Button onClick={() => void start()} disabled={busy || !available}>
            {busy ? "Starting…" : jobId ? "Export again" : "Export my data"}
          </Button>
        </div>
        {jobId && (
          <JobProgress<ExportResult>
            key={jobId}
            jobId={jobId}
            label="Export"
            renderResult={(result) => <ExportDownload result={result} />}
          />
        )}
      </CardContent>
    </Card>
  );
}
