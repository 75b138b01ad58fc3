import { type FormEvent, useState } from "react";
import { Link, useSearch } from "wouter";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { authClient } from "@/lib/auth";

import { AuthShell } from "./AuthShell";
import { authErrorMessage } from "./messages";

/** Where the mailed reset link lands: `?token=` while it is good, `?error=` when not. */
export default function ResetPasswordPage() {
  const params = new URLSearchParams(useSearch());
  const token = params.get("token");
  const linkError = params.get("error");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!token) return;
    const form = new FormData(event.currentTarget);
    const newPassword = String(form.get("password"));
    if (newPassword.length < 8) return setError("The password is too short: use at least 8 characters.");
    if (newPassword !== String(form.get("confirm"))) return setError("The two passwords differ.");
    setBusy(true);
    setError(null);
    const { error: failure } = await authClient.resetPassword({ newPassword, token });
    setBusy(false);
    if (failure) setError(authErrorMessage(failure, "Could not set the new password."));
    else setDone(true);
  }

  if (done) {
    return (
      <AuthShell title="Password changed">
        <Alert variant="success">Your new password is set. Every device was signed out: sign in again.</Alert>
        <p className="mt-4 text-sm">
          <Link href="/sign-in" className="underline underline-offset-4">
            Sign in
          </Link>
        </p>
      </AuthShell>
    );
  }

  if (!token || linkError) {
    return (
      <AuthShell title="Choose a new password">
        <Alert variant="destructive">
          {authErrorMessage({ code: linkError ?? "INVALID_TOKEN" }, "This link can not be used.")}
        </Alert>
        <p className="mt-4 text-sm">
          <Link href="/forgot-password" className="underline underline-offset-4">
            Ask for a new link
          </Link>
        </p>
      </AuthShell>
    );
  }

  return (
    <AuthShell title="Choose a new password" description="Every device signed in to your account will be signed out.">
      <form className="grid gap-4" onSubmit={submit} noValidate>
        {error && <Alert variant="destructive">{error}</Alert>}
        <Field label="New password" hint="At least 8 characters.">
          {(p) => <Input {...p} name="password" type="password" autoComplete="new-password" minLength={8} required />}
        </Field>
        <Field label="Repeat the new password">
          {(p) => <Input {...p} name="confirm" type="password" autoComplete="new-password" required />}
        </Field>
        <Button type="submit" disabled={busy}>
          {busy ? "Saving…" : "Set the new password"}
        </Button>
        <p className="text-sm">
          Link not working?{" "}
          <Link href="/forgot-password" className="underline underline-offset-4">
            Ask for a new one
          </Link>
        </p>
      </form>
    </AuthShell>
  );
}
