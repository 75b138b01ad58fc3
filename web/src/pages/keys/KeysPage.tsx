import { lazy, Suspense, useState } from "react";

import { PageHeader } from "@/components/layout/Layout";
import { Alert } from "@/components/ui/alert";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Spinner } from "@/components/ui/spinner";
import type { Page } from "@/lib/api";
import { useLiveQuery } from "@/lib/live";

import { CreateKeyCard } from "./CreateKeyCard";
import { KeysTable } from "./KeysTable";
import { NewKeyDialog } from "./NewKeyDialog";
import type { ApiKey, CreatedKey } from "./types";

const KEYS_ARGS = { limit: 200 };
// The chart library is the bulk of this page: the keys come first, the chart after.
const UsageCard = lazy(() => import("./UsageCard"));

export default function KeysPage() {
  const keys = useLiveQuery<Page<ApiKey>>("keys.list", KEYS_ARGS);
  // The only place a secret is held, and only until its dialog closes.
  const [created, setCreated] = useState<CreatedKey | null>(null);

  return (
    <>
      <PageHeader title="API keys" description="Keys for programs that use the API as you, and what they used." />
      <div className="grid grid-cols-1 gap-6">
        <CreateKeyCard onCreated={setCreated} />
        <NewKeyDialog created={created} onClose={() => setCreated(null)} />
        <Card>
          <CardHeader>
            <CardTitle>Your keys</CardTitle>
            <CardDescription>Only a key's first characters are kept on screen.</CardDescription>
          </CardHeader>
          <CardContent>
            {keys.error && <Alert variant="destructive">{keys.error.message}</Alert>}
            {keys.data ? <KeysTable keys={keys.data.data} /> : !keys.error && <Spinner label="Loading keys" />}
            {keys.data?.next_cursor && (
              <p className="mt-3 text-sm text-muted-foreground">The newest {KEYS_ARGS.limit} keys are shown.</p>
            )}
          </CardContent>
        </Card>
        <Suspense fallback={<Spinner label="Loading usage" />}>
          <UsageCard />
        </Suspense>
      </div>
    </>
  );
}
