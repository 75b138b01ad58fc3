import { type FormEvent, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { authClient } from "@/lib/auth";
import { appUrl, authErrorMessage } from "@/pages/auth/messages";

type Notice = { variant: "success" | "destructive"; text: string } | null;

/** A new address takes effect only when the link mailed to it is opened. */
export function ChangeEmailCard({ currentEmail }: { currentEmail: string }) {
  const [notice, setNotice] = useState<Notice>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const newEmail = String(new FormData(form).get("newEmail")).trim();
    if (!newEmail) return setNotice({ variant: "destructive", text: "Enter the new address." });
    if (newEmail.toLowerCase() === currentEmail.toLowerCase()) {
      return setNotice({ variant: "destructive", text: "That is already your email address." });
    }
    setBusy(true);
    const { error } = await authClient.changeEmail({
      newEmail,
      callbackURL: appUrl("/verify-email?change=1&next=%2Faccount"),
    });
    setBusy(false);
    if (error) return setNotice({ variant: "destructive", text: authErrorMessage(error, "Could not change the email.") });
    form.reset();
    setNotice({
      variant: "success",
      text: `If ${newEmail} can be used, a link is on its way there. Your email changes when you open it.`,
    });
  }

  return (
    <Card>
      <CardHeader>
        <CardTitle>Change email</CardTitle>
        <CardDescription>We mail a link to the new address to make sure it is yours.</CardDescription>
      </CardHeader>
      <CardContent className="grid grid-cols-1 gap-4">
        {notice && <Alert variant={notice.variant}>{notice.text}</Alert>}
        <form className="flex flex-wrap items-end gap-2" onSubmit={submit} noValidate>
          <Field label="New email" className="min-w-0 flex-1">
            {(p) => <Input {...p} name="newEmail" type="email" autoComplete="email" required />}
          </Field>
          <Button type="submit" variant="outline" disabled={busy}>
            {busy ? "Sending…" : "Send the link"}
          </Button>
        </form>
      </CardContent>
    </Card>
  );
}

/** The server signs every other session out; `onChanged` lets the device list follow. */
export function ChangePasswordCard({ onChanged }: { onChanged: () => void }) {
  const [notice, setNotice] = useState<Notice>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const currentPassword = String(data.get("currentPassword"));
    const newPassword = String(data.get("newPassword"));
    if (!currentPassword) return setNotice({ variant: "destructive", text: "Enter your current password." });
    if (newPassword.length < 8) {
      return setNotice({ variant: "destructive", text: "The new password is too short: use at least 8 characters." });
    }
    if (newPassword !== String(data.get("confirm"))) {
      return setNotice({ variant: "destructive", text: "The two new passwords differ." });
    }
    setBusy(true);
    const { error } = await authClient.changePassword({ currentPassword, newPassword, revokeOtherSessions: true });
    setBusy(false);
    if (error) {
      return setNotice({ variant: "destructive", text: authErrorMessage(error, "Could not change the password.") });
    }
    form.reset();
    setNotice({ variant: "success", text: "Password changed. Your other devices were signed out." });
    onChanged();
  }

  return (
    <Card>
      <CardHeader>
        <CardTitle>Change password</CardTitle>
        <CardDescription>Every other device is signed out.</CardDescription>
      </CardHeader>
      <CardContent className="grid grid-cols-1 gap-4">
        {notice && <Alert variant={notice.variant}>{notice.text}</Alert>}
        <form className="grid grid-cols-1 gap-3" onSubmit={submit} noValidate>
          <Field label="Current password">
            {(p) => <Input {...p} name="currentPassword" type="password" autoComplete="current-password" required />}
          </Field>
          <Field label="New password" hint="At least 8 characters.">
            {(p) => <Input {...p} name="newPassword" type="password" autoComplete="new-password" minLength={8} required />}
          </Field>
          <Field label="Repeat the new password">
            {(p) => <Input {...p} name="confirm" type="password" autoComplete="new-password" required />}
          </Field>
          <div>
            <Button type="submit" variant="outline" disabled={busy}>
              {busy ? "Changing…" : "Change password"}
            </Button>
          </div>
        </form>
      </CardContent>
    </Card>
  );
}
