import { type FormEvent, useState } from "react";
import { Link, useSearch } from "wouter";

import { safeNext } from "@/app/App";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { signUp } from "@/lib/auth";

import { AuthShell } from "./AuthShell";
import { appUrl, authErrorMessage } from "./messages";

export default function SignUpPage() {
  const search = useSearch();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** Set when the server holds the sign-in back until the email is verified. */
  const [mailedTo, setMailedTo] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email")).trim();
    const password = String(form.get("password"));
    if (!email) return setError("Enter your email.");
    if (password.length < 8) return setError("The password is too short: use at least 8 characters.");
    setBusy(true);
    setError(null);
    const { data, error: failure } = await signUp.email({
      name: String(form.get("name")).trim() || email.split("@")[0] || email,
      email,
      password,
      // Where the verification link (mailed when mail is set up) lands: our page, then on.
      callbackURL: appUrl(`/verify-email?next=${encodeURIComponent(safeNext(search))}`),
    });
    setBusy(false);
    if (failure) setError(authErrorMessage(failure, "Could not create the account."));
    else if (data && !data.token) setMailedTo(email);
    // With a session, better-auth's session atom updates and the router leaves this page.
  }

  if (mailedTo) {
    return (
      <AuthShell title="Check your inbox">
        <Alert variant="success">
          We sent a link to {mailedTo}. Open it to verify your email, then sign in.
        </Alert>
        <p className="mt-4 text-sm">
          <Link href="/sign-in" className="underline underline-offset-4">
            Go to sign in
          </Link>
        </p>
      </AuthShell>
    );
  }

  return (
    <AuthShell title="Create an account" description="Chat, plan and book in one place.">
      <form className="grid gap-4" onSubmit={submit} noValidate>
        {error && <Alert variant="destructive">{error}</Alert>}
        <Field label="Name">{(p) => <Input {...p} name="name" autoComplete="name" required />}</Field>
        <Field label="Email">{(p) => <Input {...p} name="email" type="email" autoComplete="email" required />}</Field>
        <Field label="Password" hint="At least 8 characters.">
          {(p) => <Input {...p} name="password" type="password" autoComplete="new-password" minLength={8} required />}
        </Field>
        <Button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </Button>
        <p className="text-sm">
          Already have an account?{" "}
          <Link href={`/sign-in${search ? `?${search}` : ""}`} className="underline underline-offset-4">
            Sign in
          </Link>
        </p>
      </form>
    </AuthShell>
  );
}
