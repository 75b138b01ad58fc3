import { type FormEvent, useState } from "react";
import { Link } from "wouter";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { authClient } from "@/lib/auth";

import { AuthShell } from "./AuthShell";
import { appUrl, authErrorMessage } from "./messages";

/** The same answer whether the address has an account or not: the server's is too. */
const SENT = "If this address has an account, we have sent it a link to choose a new password. It works for one hour.";

export default function ForgotPasswordPage() {
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const email = String(new FormData(event.currentTarget).get("email")).trim();
    if (!email) return setError("Enter your email.");
    setBusy(true);
    setError(null);
    const { error: failure } = await authClient.requestPasswordReset({
      email,
      redirectTo: appUrl("/reset-password"),
    });
    setBusy(false);
    if (failure) setError(authErrorMessage(failure, "Could not send the link."));
    else setSent(true);
  }

  return (
    <AuthShell title="Forgot your password?" description="We will mail you a link to choose a new one.">
      {sent ? (
        <div className="grid gap-4">
          <Alert variant="success">{SENT}</Alert>
          <Button variant="outline" onClick={() => setSent(false)}>
            Send to another address
          </Button>
        </div>
      ) : (
        <form className="grid gap-4" onSubmit={submit} noValidate>
          {error && <Alert variant="destructive">{error}</Alert>}
          <Field label="Email">{(p) => <Input {...p} name="email" type="email" autoComplete="email" required />}</Field>
          <Button type="submit" disabled={busy}>
            {busy ? "Sending…" : "Send the link"}
          </Button>
        </form>
      )}
      <p className="mt-4 text-sm">
        <Link href="/sign-in" className="underline underline-offset-4">
          Back to sign in
        </Link>
      </p>
    </AuthShell>
  );
}
