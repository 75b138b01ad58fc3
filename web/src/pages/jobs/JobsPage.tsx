import { useEffect, useState } from "react";

import { PageHeader } from "@/components/layout/Layout";
import { Alert } from "@/components/ui/alert";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { api, errorMessage } from "@/lib/api";

import { ExportCard } from "./ExportCard";
import { ImportCard } from "./ImportCard";
import { JobsTable } from "./JobsTable";
import { type Action, EXPORT_ACTION, IMPORT_ACTION } from "./types";

export default function JobsPage() {
  // The server's actions decide which cards can start anything; until known, assume both.
  const [actions, setActions] = useState<Set<string> | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    api<{ data: Action[] }>("/api/actions", { signal: controller.signal })
      .then((list) => setActions(new Set(list.data.map((a) => a.name))))
      .catch((failure: unknown) => {
        if (!controller.signal.aborted) setError(errorMessage(failure));
      });
    return () => controller.abort();
  }, []);

  const has = (name: string) => actions === null || actions.has(name);

  return (
    <>
      <PageHeader title="Jobs" description="Imports, exports and other work the server does for you in the background." />
      <div className="grid grid-cols-1 gap-6">
        {error && <Alert variant="destructive">Could not list the server's actions: {error}</Alert>}
        <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
          <ImportCard available={has(IMPORT_ACTION)} />
          <ExportCard available={has(EXPORT_ACTION)} />
        </div>
        <Card>
          <CardHeader>
            <CardTitle>Your jobs</CardTitle>
            <CardDescription>Updated live. Queued and running jobs can be canceled.</CardDescription>
          </CardHeader>
          <CardContent>
            <JobsTable />
          </CardContent>
        </Card>
      </div>
    </>
  );
}
