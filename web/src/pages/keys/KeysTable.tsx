import { useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { api, errorMessage } from "@/lib/api";
import { formatDateTime } from "@/lib/format";

import type { ApiKey } from "./types";

const STATUS_BADGE = { active: "success", revoked: "destructive", expired: "secondary" } as const;

/** The keys as listed: name and prefix only, never a secret. Revoking asks first. */
export function KeysTable({ keys }: { keys: ApiKey[] }) {
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function revoke(key: ApiKey) {
    setBusy(true);
    setError(null);
    try {
      await api(`/api/keys/${key.id}`, { method: "DELETE" });
      setRevoking(null); // the live list shows it revoked
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  }

  if (keys.length === 0) {
    return <p className="text-sm text-muted-foreground">No keys yet. Create one above.</p>;
  }

  return (
    <>
      <Table scrollLabel="Your keys">
        <TableHeader>
          <TableRow>
            <TableHead>Name</TableHead>
            <TableHead>Key</TableHead>
            <TableHead>Created</TableHead>
            <TableHead>Last used</TableHead>
            <TableHead>Expires</TableHead>
            <TableHead>Status</TableHead>
            <TableHead>
              <span className="sr-only">Actions</span>
            </TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {keys.map((key) => (
            <TableRow key={key.id}>
              <TableCell className="font-medium">{key.name}</TableCell>
              <TableCell>
                <code className="font-mono text-xs">{key.prefix}…</code>
              </TableCell>
              <TableCell className="whitespace-nowrap">{formatDateTime(key.created_at)}</TableCell>
              <TableCell className="whitespace-nowrap">{key.last_used_at ? formatDateTime(key.last_used_at) : "Never"}</TableCell>
              <TableCell className="whitespace-nowrap">{key.expires_at ? formatDateTime(key.expires_at) : "Never"}</TableCell>
              <TableCell>
                <Badge variant={STATUS_BADGE[key.status]}>{key.status}</Badge>
              </TableCell>
              <TableCell className="text-right">
                {key.status === "active" && (
                  <Button
                    size="sm"
                    variant="outline"
                    aria-label={`Revoke ${key.name}`}
                    onClick={() => {
                      setError(null);
                      setRevoking(key);
                    }}
                  >
                    Revoke
                  </Button>
                )}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <Dialog open={revoking !== null} onClose={() => setRevoking(null)} title="Revoke this key?">
        {revoking && (
          <div className="grid grid-cols-1 gap-4">
            <p className="text-sm">
              Programs using <strong>{revoking.name}</strong> (<code className="font-mono">{revoking.prefix}…</code>) are
              refused from now on. This can not be undone.
            </p>
            {error && <Alert variant="destructive">{error}</Alert>}
            <div className="flex flex-wrap justify-end gap-2">
              <Button variant="outline" onClick={() => setRevoking(null)}>
                Keep it
              </Button>
              <Button variant="destructive" disabled={busy} onClick={() => void revoke(revoking)}>
                {busy ? "Revoking…" : "Revoke key"}
              </Button>
            </div>
          </div>
        )}
      </Dialog>
    </>
  );
}
