import { Link, Redirect, useSearch } from "wouter";

import { safeNext } from "@/app/App";
import { Alert } from "@/components/ui/alert";
import { useSession } from "@/lib/auth";

import { AuthShell } from "./AuthShell";
import { authErrorMessage } from "./messages";

/**
 * Where a mailed verification (or change-of-email) link lands once the server has checked
 * it: `?error=INVALID_TOKEN|TOKEN_EXPIRED` when it failed, nothing when it worked. Reachable
 * signed in or out (the link may be opened in either).
 */
export default function VerifyEmailPage() {
  const search = useSearch();
  const params = new URLSearchParams(search);
  const error = params.get("error");
  const changed = params.get("change") === "1";
  const { data } = useSession();
  const next = data ? safeNext(search) : "/sign-in";
  // A sign-in names this page as its callbackURL (see SignInPage): signed in, go on.
  if (data && !error && params.get("from") === "sign-in") return <Redirect to={next} replace />;

  return (
    <AuthShell title={error ? "The link did not work" : changed ? "Email changed" : "Email verified"}>
      {error ? (
        <Alert variant="destructive">{authErrorMessage({ code: error }, "This link can not be used.")}</Alert>
      ) : (
        <Alert variant="success">
          {changed
            ? "Your account now uses the new address, and it is verified."
            : "Thank you: your email address is verified."}
        </Alert>
      )}
      <p className="mt-4 text-sm">
        {error && data ? (
          <Link href="/account" className="underline underline-offset-4">
            Send a new link from your account
          </Link>
        ) : (
          <Link href={next} className="underline underline-offset-4">
            {data ? "Continue" : error ? "Sign in to ask for a new link" : "Sign in"}
          </Link>
        )}
      </p>
    </AuthShell>
  );
}
