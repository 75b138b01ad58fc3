import { useCallback, useEffect, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Input, Select } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { useToast } from "@/components/ui/toast";
import { authClient, isAdmin, useSession } from "@/lib/auth";
import { formatDate } from "@/lib/format";

const PAGE = 25;

interface AdminUser {
  id: string;
  name: string;
  email: string;
  role?: string | null;
  banned: boolean | null;
  banReason?: string | null;
  createdAt: Date | string;
}

type Failure = { message?: string; code?: string } | null;
const words = (error: Failure, fallback: string) => error?.message || error?.code || fallback;

/** Users: search, set the role, ban and unban (better-auth's admin client). */
export function UsersAdmin() {
  const toast = useToast();
  const { data: session } = useSession();
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [offset, setOffset] = useState(0);
  const [result, setResult] = useState<{ users: AdminUser[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [banning, setBanning] = useState<AdminUser | null>(null);

  // Search as the person types, once they pause.
  useEffect(() => {
    const timer = setTimeout(() => {
      setQuery(search.trim());
      setOffset(0);
    }, 300);
    return () => clearTimeout(timer);
  }, [search]);

  const load = useCallback(async () => {
    const { data, error: failure } = await authClient.admin.listUsers({
      query: {
        limit: PAGE,
        offset,
        ...(query ? { searchValue: query, searchField: query.includes("@") ? "email" : "name", searchOperator: "contains" } : {}),
      },
    });
    if (failure) setError(words(failure, "Could not list users."));
    else {
      setError(null);
      setResult({ users: data.users as AdminUser[], total: data.total });
    }
  }, [query, offset]);
  useEffect(() => {
    void load();
  }, [load]);

  async function act(user: AdminUser, call: () => Promise<{ error: Failure }>, done: string) {
    setBusy(user.id);
    setError(null);
    const { error: failure } = await call();
    setBusy(null);
    if (failure) setError(words(failure, "That did not work."));
    else toast({ title: done, description: user.email, variant: "success" });
    void load();
  }

  return (
    <section aria-labelledby="users-heading" className="grid gap-4">
      <h2 id="users-heading" className="text-lg font-semibold">
        Users
      </h2>
      <Field label="Search users" hint="By name, or by email when the text has an @." className="max-w-sm">
        {(p) => <Input {...p} type="search" value={search} onChange={(event) => setSearch(event.target.value)} />}
      </Field>
      {error && <Alert variant="destructive">{error}</Alert>}
      {!result && !error && <Spinner label="Loading users" />}
      {result && result.users.length === 0 && <p className="text-sm text-muted-foreground">No users match.</p>}
      {result && result.users.length > 0 && (
        <Table>
          <TableHeader>
            <TableRow>
              <TableHead>Name</TableHead>
              <TableHead>Email</TableHead>
              <TableHead>Joined</TableHead>
              <TableHead>Role</TableHead>
              <TableHead>Status</TableHead>
              <TableHead>
                <span className="sr-only">Actions</span>
              </TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {result.users.map((user) => {
              const self = user.id === session?.user.id;
              return (
                <TableRow key={user.id}>
                  <TableCell className="font-medium">{user.name || "—"}</TableCell>
                  <TableCell>{user.email}</TableCell>
                  <TableCell>{formatDate(new Date(user.createdAt).toISOString())}</TableCell>
                  <TableCell>
                    <Select
                      aria-label={`Role of ${user.email}`}
                      className="w-auto"
                      value={isAdmin(user) ? "admin" : "user"}
                      disabled={busy === user.id}
                      onChange={(event) => {
                        const role = event.target.value as "admin" | "user";
                        void act(user, () => authClient.admin.setRole({ userId: user.id, role }), `Role set to ${role}`);
                      }}
                    >
                      <option value="user">user</option>
                      <option value="admin">admin</option>
                    </Select>
                  </TableCell>
                  <TableCell>
                    {user.banned ? (
                      <Badge variant="destructive" title={user.banReason ?? undefined}>
                        Banned
                      </Badge>
                    ) : (
                      <Badge variant="secondary">Active</Badge>
                    )}
                  </TableCell>
                  <TableCell>
                    {user.banned ? (
                      <Button
                        size="sm"
                        variant="outline"
                        disabled={busy === user.id}
                        aria-label={`Unban ${user.email}`}
                        onClick={() => void act(user, () => authClient.admin.unbanUser({ userId: user.id }), "User unbanned")}
                      >
                        Unban
                      </Button>
                    ) : (
                      !self && (
                        <Button
                          size="sm"
                          variant="outline"
                          disabled={busy === user.id}
                          aria-label={`Ban ${user.email}`}
                          onClick={() => setBanning(user)}
                        >
                          Ban
                        </Button>
                      )
                    )}
                  </TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      )}
      {result && result.total > PAGE && (
        <nav aria-label="Pages of users" className="flex items-center gap-2 text-sm">
          <Button size="sm" variant="outline" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Previous
          </Button>
          <span>
            {offset + 1}–{Math.min(offset + PAGE, result.total)} of {result.total}
          </span>
          <Button
            size="sm"
            variant="outline"
            disabled={offset + PAGE >= result.total}
            onClick={() => setOffset(offset + PAGE)}
          >
            Next
          </Button>
        </nav>
      )}
      <Dialog open={banning !== null} onClose={() => setBanning(null)} title={`Ban ${banning?.email ?? "user"}?`}>
        <form
          className="grid gap-3"
          onSubmit={(event) => {
            event.preventDefault();
            const reason = String(new FormData(event.currentTarget).get("reason")).trim();
            const user = banning;
            setBanning(null);
            if (user) {
              void act(
                user,
                () => authClient.admin.banUser({ userId: user.id, ...(reason ? { banReason: reason } : {}) }),
                "User banned",
              );
            }
          }}
        >
          <p className="text-sm">They are signed out everywhere at once and cannot sign in until unbanned.</p>
          <Field label="Reason (optional)">{(p) => <Input {...p} name="reason" maxLength={500} />}</Field>
          <div className="flex justify-end gap-2">
            <Button variant="outline" onClick={() => setBanning(null)}>
              Keep
            </Button>
            <Button type="submit" variant="destructive">
              Ban user
            </Button>
          </div>
        </form>
      </Dialog>
    </section>
  );
}
