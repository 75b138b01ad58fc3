import { useCallback, useEffect, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Spinner } from "@/components/ui/spinner";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { authClient } from "@/lib/auth";
import { formatDateTime } from "@/lib/format";
import { authErrorMessage } from "@/pages/auth/messages";

import { describeUserAgent, isoOf } from "./device";

interface Device {
  id: string;
  userAgent: string | null;
  ipAddress: string | null;
  createdAt: string | null;
  expiresAt: string | null;
}

/** The signed-in devices (better-auth's sessions), this one marked; revoke one or all others. */
export function DevicesCard({ currentSessionId, reloadKey }: { currentSessionId: string; reloadKey: number }) {
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    const { data, error: failure } = await authClient.listSessions();
    if (failure) return setError(authErrorMessage(failure, "Could not list your devices."));
    setError(null);
    setDevices(
      (data ?? []).map((s) => ({
        id: String(s.id),
        userAgent: s.userAgent ?? null,
        ipAddress: s.ipAddress ?? null,
        createdAt: isoOf(s.createdAt),
        expiresAt: isoOf(s.expiresAt),
      })),
    );
  }, []);

  useEffect(() => {
    void load();
  }, [load, reloadKey]);

  async function revoke(id: string) {
    setBusy(id);
    const { error: failure } = await authClient.$fetch("/revoke-session", { method: "POST", body: { id } });
    setBusy(null);
    if (failure) setError(authErrorMessage(failure as { code?: string; message?: string }, "Could not sign it out."));
    await load();
  }

  async function revokeOthers() {
    setBusy("others");
    const { error: failure } = await authClient.revokeOtherSessions();
    setBusy(null);
    if (failure) setError(authErrorMessage(failure, "Could not sign the other devices out."));
    await load();
  }

  const others = devices?.filter((d) => d.id !== currentSessionId).length ?? 0;

  return (
    <Card>
      <CardHeader>
        <CardTitle>Devices</CardTitle>
        <CardDescription>Where your account is signed in. Sign out any you do not recognise.</CardDescription>
      </CardHeader>
      <CardContent className="grid grid-cols-1 gap-3">
        {error && <Alert variant="destructive">{error}</Alert>}
        {devices === null ? (
          !error && <Spinner label="Loading devices" />
        ) : (
          <Table scrollLabel="Devices">
            <TableHeader>
              <TableRow>
                <TableHead>Device</TableHead>
                <TableHead>IP address</TableHead>
                <TableHead>Signed in</TableHead>
                <TableHead className="hidden sm:table-cell">Expires</TableHead>
                <TableHead>
                  <span className="sr-only">Actions</span>
                </TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {devices.map((device) => {
                const current = device.id === currentSessionId;
                const name = describeUserAgent(device.userAgent);
                return (
                  <TableRow key={device.id}>
                    <TableCell>
                      <span title={device.userAgent ?? undefined}>{name}</span>{" "}
                      {current && <Badge variant="secondary">This device</Badge>}
                    </TableCell>
                    <TableCell className="tabular-nums">{device.ipAddress ?? "—"}</TableCell>
                    <TableCell>{formatDateTime(device.createdAt)}</TableCell>
                    <TableCell className="hidden sm:table-cell">{formatDateTime(device.expiresAt)}</TableCell>
                    <TableCell className="text-right">
                      {!current && (
                        <Button
                          size="sm"
                          variant="outline"
                          disabled={busy !== null}
                          aria-label={`Sign out ${name}, signed in ${formatDateTime(device.createdAt)}`}
                          onClick={() => void revoke(device.id)}
                        >
                          Sign out
                        </Button>
                      )}
                    </TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        )}
        {others > 0 && (
          <div>
            <Button variant="outline" disabled={busy !== null} onClick={() => void revokeOthers()}>
              {busy === "others" ? "Signing out…" : "Sign out all other devices"}
            </Button>
          </div>
        )}
      </CardContent>
    </Card>
  );
}
