/**
 * better-auth's own React client, unchanged, against our `/api/auth` (same origin, so the
 * session cookie and the CSRF check need no configuration). `adminClient` adds
 * `authClient.admin.*` (list users, set role, ban) for administrators.
 */
import { adminClient } from "better-auth/client/plugins";
import { createAuthClient } from "better-auth/react";

export const authClient = createAuthClient({
  baseURL: window.location.origin,
  plugins: [adminClient()],
});

export const { useSession, signIn, signUp, signOut } = authClient;

type SessionData = NonNullable<ReturnType<typeof useSession>["data"]>;
export type User = SessionData["user"] & { role?: string | null };

export function isAdmin(user: { role?: string | null } | null | undefined): boolean {
  return (user?.role ?? "").split(",").includes("admin");
}
