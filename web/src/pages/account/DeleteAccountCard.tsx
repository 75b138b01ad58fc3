import { type FormEvent, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Dialog } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { authClient } from "@/lib/auth";
import { authErrorMessage } from "@/pages/auth/messages";

/** Erasure of the account and everything it owns, confirmed with the password. */
export function DeleteAccountCard() {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const password = String(new FormData(event.currentTarget).get("password"));
    if (!password) return setError("Enter your password to confirm.");
    setBusy(true);
    setError(null);
    const { error: failure } = await authClient.deleteUser({ password });
    setBusy(false);
    if (failure) return setError(authErrorMessage(failure, "Could not delete the account."));
    // The cookie is gone: asking for the session again sends this tab to the sign-in page.
    authClient.$store.notify("$sessionSignal");
  }

  return (
    <Card className="border-destructive/40">
      <CardHeader>
        <CardTitle>Delete account</CardTitle>
        <CardDescription>
          Deletes your account and everything it owns: chats, planner records, reservations, API keys. This can not be
          undone.
        </CardDescription>
      </CardHeader>
      <CardContent>
        <Button variant="destructive" onClick={() => setOpen(true)}>
          Delete my account…
        </Button>
        <Dialog
          open={open}
          onClose={() => {
            setOpen(false);
            setError(null);
          }}
          title="Delete your account?"
        >
          <form className="grid grid-cols-1 gap-4" onSubmit={submit} noValidate>
            <p className="text-sm">Everything you own here is deleted for good. Enter your password to confirm.</p>
            {error && <Alert variant="destructive">{error}</Alert>}
            <Field label="Password">
              {(p) => <Input {...p} name="password" type="password" autoComplete="current-password" required autoFocus />}
            </Field>
            <div className="flex flex-wrap justify-end gap-2">
              <Button variant="outline" onClick={() => setOpen(false)}>
                Keep my account
              </Button>
              <Button type="submit" variant="destructive" disabled={busy}>
                {busy ? "Deleting…" : "Delete for good"}
              </Button>
            </div>
          </form>
        </Dialog>
      </CardContent>
    </Card>
  );
}
