import { type FormEvent, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { api, errorMessage } from "@/lib/api";

import type { CreatedKey } from "./types";

/** Name and optional lifetime; the created key (with its secret) goes to `onCreated`. */
export function CreateKeyCard({ onCreated }: { onCreated: (key: CreatedKey) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const name = String(data.get("name")).trim();
    const daysText = String(data.get("days")).trim();
    if (!name) return setError("Give the key a name, to tell it from the others.");
    const days = daysText ? Number(daysText) : null;
    if (days !== null && (!Number.isInteger(days) || days < 1 || days > 3650)) {
      return setError("Expiry: a whole number of days from 1 to 3650, or empty for a key that does not expire.");
    }
    setBusy(true);
    setError(null);
    try {
      const created = await api<CreatedKey>("/api/keys", {
        method: "POST",
        body: days === null ? { name } : { name, expires_in_days: days },
      });
      form.reset();
      onCreated(created);
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card>
      <CardHeader>
        <CardTitle>Create a key</CardTitle>
        <CardDescription>
          A key lets a program use the API as you: send it as <code>Authorization: Bearer ea_…</code>.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid grid-cols-1 gap-3">
        {error && <Alert variant="destructive">{error}</Alert>}
        <form className="grid grid-cols-1 gap-3 sm:grid-cols-[1fr_10rem_auto] sm:items-end" onSubmit={submit} noValidate>
          <Field label="Name">{(p) => <Input {...p} name="name" maxLength={100} placeholder="My script" required />}</Field>
          <Field label="Expires in days (optional)">
            {(p) => <Input {...p} name="days" type="number" inputMode="numeric" min={1} max={3650} step={1} />}
          </Field>
          <Button type="submit" disabled={busy}>
            {busy ? "Creating…" : "Create key"}
          </Button>
        </form>
      </CardContent>
    </Card>
  );
}
