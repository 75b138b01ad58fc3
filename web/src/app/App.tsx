import { Suspense, useEffect, useRef } from "react";
import { Redirect, Route, Switch, useLocation, useSearch } from "wouter";

import { HOME, ROUTES } from "@/app/routes";
import { Layout } from "@/components/layout/Layout";
import { Spinner } from "@/components/ui/spinner";
import { Toaster } from "@/components/ui/toast";
import { authClient, useSession } from "@/lib/auth";
import { live } from "@/lib/live";

/** Only a same-site path is followed after sign-in (never `//evil.example`). */
export function safeNext(search: string): string {
  const next = new URLSearchParams(search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : HOME;
}

function SignedOutOnly({ children }: { children: React.ReactNode }) {
  const search = useSearch();
  const { data } = useSession();
  return data ? <Redirect to={safeNext(search)} replace /> : children;
}

function SignedInOnly({ children }: { children: React.ReactNode }) {
  const [location] = useLocation();
  const { data } = useSession();
  if (!data) return <Redirect to={`/sign-in?next=${encodeURIComponent(location)}`} replace />;
  return <Layout>{children}</Layout>;
}

export function App() {
  const { data, isPending } = useSession();
  // better-auth's refetches (window focus, after sign-up) report `isPending` again while
  // signed out; only the first load waits, or a signed-out page would be unmounted and lose
  // what its form held (a "check your inbox" answer, a half-typed email).
  const settled = useRef(false);
  if (!isPending) settled.current = true;
  useEffect(() => {
    // The server closed the live socket because the session ended (signed out elsewhere,
    // revoked, banned): ask better-auth again, which sends this tab to /sign-in.
    live.onSignedOut = () => authClient.$store.notify("$sessionSignal");
  }, []);
  useEffect(() => {
    if (!data) live.reset();
  }, [data]);

  if (isPending && !settled.current) {
    return (
      <div className="grid min-h-dvh place-items-center">
        <Spinner />
      </div>
    );
  }
  return (
    <Toaster>
      <Suspense
        fallback={
          <div className="grid min-h-dvh place-items-center">
            <Spinner />
          </div>
        }
      >
        <Switch>
          <Route path="/">
            <Redirect to={HOME} replace />
          </Route>
          {ROUTES.map(({ path, page: Page, public: isPublic, signedInToo }) => (
            <Route key={path} path={path}>
              {isPublic && signedInToo ? (
                <Page />
              ) : isPublic ? (
                <SignedOutOnly>
                  <Page />
                </SignedOutOnly>
              ) : (
                <SignedInOnly>
                  <Page />
                </SignedInOnly>
              )}
            </Route>
          ))}
          <Route>
            <SignedInOnly>
              <div className="py-16 text-center">
                <h1 className="text-2xl font-semibold">Page not found</h1>
                <p className="mt-2 text-muted-foreground">There is nothing at this address.</p>
              </div>
            </SignedInOnly>
          </Route>
        </Switch>
      </Suspense>
    </Toaster>
  );
}
