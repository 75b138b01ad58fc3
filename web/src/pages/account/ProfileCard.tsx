import { type FormEvent, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { authClient, type User } from "@/lib/auth";
import { appUrl, authErrorMessage } from "@/pages/auth/messages";

type Notice = { variant: "success" | "destructive"; text: string } | null;

/** Name (editable), email with its verified state, and a fresh verification link on request. */
export function ProfileCard({ user }: { user: User }) {
  const [notice, setNotice] = useState<Notice>(null);
  const [busy, setBusy] = useState<"name" | "mail" | null>(null);

  async function saveName(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get("name")).trim();
    if (!name) return setNotice({ variant: "destructive", text: "Your name can not be empty." });
    setBusy("name");
    const { error } = await authClient.updateUser({ name });
    setBusy(null);
    setNotice(
      error
        ? { variant: "destructive", text: authErrorMessage(error, "Could not save your name.") }
        : { variant: "success", text: "Your name is saved." },
    );
  }

  async function resend() {
    setBusy("mail");
    const { error } = await authClient.sendVerificationEmail({
      email: user.email,
      callbackURL: appUrl("/verify-email?next=%2Faccount"),
    });
    setBusy(null);
    setNotice(
      error
        ? { variant: "destructive", text: authErrorMessage(error, "Could not send the link.") }
        : { variant: "success", text: `We sent a verification link to ${user.email}.` },
    );
  }

  return (
    <Card>
      <CardHeader>
        <CardTitle>Profile</CardTitle>
        <CardDescription>How you appear in the app.</CardDescription>
      </CardHeader>
      <CardContent className="grid grid-cols-1 gap-4">
        {notice && <Alert variant={notice.variant}>{notice.text}</Alert>}
        <form className="flex flex-wrap items-end gap-2" onSubmit={saveName} noValidate>
          <Field label="Name" className="min-w-0 flex-1">
            {(p) => <Input {...p} name="name" defaultValue={user.name} autoComplete="name" required maxLength={200} />}
          </Field>
          <Button type="submit" variant="outline" disabled={busy === "name"}>
            {busy === "name" ? "Saving…" : "Save name"}
          </Button>
        </form>
        <div className="grid grid-cols-1 gap-1.5">
          <span className="text-sm font-medium">Email</span>
          <div className="flex flex-wrap items-center gap-2">
            <span className="break-all">{user.email}</span>
            {user.emailVerified ? (
              <Badge variant="success">Verified</Badge>
            ) : (
              <>
                <Badge variant="secondary">Not verified</Badge>
                <Button size="sm" variant="outline" onClick={() => void resend()} disabled={busy === "mail"}>
                  {busy === "mail" ? "Sending…" : "Resend verification email"}
                </Button>
              </>
            )}
          </div>
        </div>
      </CardContent>
    </Card>
  );
}
