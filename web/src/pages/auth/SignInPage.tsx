import { type FormEvent, useState } from "react";
import { Link, useSearch } from "wouter";

import { safeNext } from "@/app/App";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { signIn } from "@/lib/auth";

import { AuthShell } from "./AuthShell";
import { appUrl, authErrorMessage } from "./messages";

export default function SignInPage() {
  const search = useSearch();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email")).trim();
    const password = String(form.get("password"));
    if (!email || !password) {
      setError("Enter your email and your password.");
      return;
    }
    setBusy(true);
    setError(null);
    const { error: failure } = await signIn.email({
      email,
      password,
      rememberMe: form.get("remember") === "on",
      // better-auth sends the browser here after a sign-in, and an unverified account's
      // fresh verification link (REQUIRE_EMAIL_VERIFICATION) lands here too: the page
      // says "verified" to the latter and forwards the former on at once.
      callbackURL: appUrl(`/verify-email?from=sign-in&next=${encodeURIComponent(safeNext(search))}`),
    });
    setBusy(false);
    if (failure) setError(authErrorMessage(failure, "Could not sign in."));
    // On success better-auth's session atom updates and the router leaves this page.
  }

  return (
    <AuthShell title="Sign in" description="Welcome back.">
      <form className="grid gap-4" onSubmit={submit} noValidate>
        {error && <Alert variant="destructive">{error}</Alert>}
        <Field label="Email">
          {(p) => (
            <Input
              {...p}
              aria-invalid={error ? true : undefined}
              name="email"
              type="email"
              autoComplete="email"
              required
            />
          )}
        </Field>
        <Field label="Password">
          {(p) => (
            <Input
              {...p}
              aria-invalid={error ? true : undefined}
              name="password"
              type="password"
              autoComplete="current-password"
              required
            />
          )}
        </Field>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" name="remember" defaultChecked /> Keep me signed in
        </label>
        <Button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </Button>
        <div className="flex flex-wrap justify-between gap-2 text-sm">
          <Link href="/forgot-password" className="underline underline-offset-4">
            Forgot password?
          </Link>
          <Link href={`/sign-up${search ? `?${search}` : ""}`} className="underline underline-offset-4">
            Create an account
          </Link>
        </div>
      </form>
    </AuthShell>
  );
}
