/**
 * Runs a write and keeps its errors where a person looks for them: a 422's details next to
 * the field they name (`loc: ["body", "amount"]`), anything else (a rule over several fields,
 * a 404, the network) as one message for the whole form.
 */
import { useCallback, useState } from "react";

import { ApiError, errorMessage } from "@/lib/api";

export type FieldErrors = Record<string, string>;

export interface Submit {
  pending: boolean;
  fieldErrors: FieldErrors;
  formError: string | null;
  /** Runs `write`; resolves true when it succeeded. */
  run: (write: () => Promise<unknown>) => Promise<boolean>;
  clear: () => void;
}

/** pydantic prefixes a validator's own message with its kind; people need only the message. */
const readable = (message: string): string => message.replace(/^(Value|Assertion) error, /, "");

export function splitErrors(error: unknown): { fields: FieldErrors; form: string | null } {
  if (!(error instanceof ApiError) || error.code !== "validation_error" || error.details.length === 0) {
    return { fields: {}, form: errorMessage(error) };
  }
  const fields: FieldErrors = {};
  const whole: string[] = [];
  for (const detail of error.details) {
    const text = readable(detail.msg ?? detail.message ?? "Invalid value");
    const loc = detail.loc ?? [];
    const field = loc[0] === "body" && loc.length > 1 ? String(loc[1]) : null;
    if (field && !(field in fields)) fields[field] = text;
    else if (!field) whole.push(text);
  }
  return { fields, form: whole.length ? whole.join(" ") : null };
}

export function useSubmit(): Submit {
  const [pending, setPending] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);

  const clear = useCallback(() => {
    setFieldErrors({});
    setFormError(null);
  }, []);

  const run = useCallback(async (write: () => Promise<unknown>) => {
    setPending(true);
    setFieldErrors({});
    setFormError(null);
    try {
      await write();
      return true;
    } catch (error) {
      const { fields, form } = splitErrors(error);
      setFieldErrors(fields);
      setFormError(form);
      return false;
    } finally {
      setPending(false);
    }
  }, []);

  return { pending, fieldErrors, formError, run, clear };
}
