import { type FormEvent, useState } from "react";
import { Link, useSearch } from "wouter";

import { safeNext } from "@/app/App";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { signUp } from "@/lib/auth";

import { AuthShell } from "./AuthShell";

export default function SignUpPage() {
  const search = useSearch();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    const { error: failure } = await signUp.email({
      name: String(form.get("name")),
      email: String(form.get("email")),
      password: String(form.get("password")),
      callbackURL: safeNext(search),
    });
    setBusy(false);
    if (failure) setError(failure.message ?? "Could not create the account.");
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
