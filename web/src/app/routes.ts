/**
 * Every page of the app: its path, its code (a lazy chunk of its own, so the first load
 * carries only the shell), whether it needs a session, and its place in the navigation.
 * The one place a page is listed.
 */
import { type ComponentType, lazy, type LazyExoticComponent } from "react";

export interface PageRoute {
  path: string;
  page: LazyExoticComponent<ComponentType>;
  /** Reachable signed out (the sign-in pages); everything else redirects to /sign-in. */
  public?: boolean;
  /** A public page that a signed-in visitor sees too, rather than being sent on (the
   * landings of mailed links, which may be opened in a signed-in browser). */
  signedInToo?: boolean;
  nav?: { label: string; adminOnly?: boolean };
}

export const ROUTES: PageRoute[] = [
  { path: "/sign-in", page: lazy(() => import("@/pages/auth/SignInPage")), public: true },
  { path: "/sign-up", page: lazy(() => import("@/pages/auth/SignUpPage")), public: true },
  { path: "/forgot-password", page: lazy(() => import("@/pages/auth/ForgotPasswordPage")), public: true },
  {
    path: "/reset-password",
    page: lazy(() => import("@/pages/auth/ResetPasswordPage")),
    public: true,
    signedInToo: true,
  },
  {
    path: "/verify-email",
    page: lazy(() => import("@/pages/auth/VerifyEmailPage")),
    public: true,
    signedInToo: true,
  },
  { path: "/chat/:id?", page: lazy(() => import("@/pages/chat/ChatPage")), nav: { label: "Chat" } },
  { path: "/planner", page: lazy(() => import("@/pages/planner/PlannerPage")), nav: { label: "Planner" } },
  {
    path: "/reservations",
    page: lazy(() => import("@/pages/reservations/ReservationsPage")),
    nav: { label: "Reservations" },
  },
  { path: "/keys", page: lazy(() => import("@/pages/keys/KeysPage")), nav: { label: "API keys" } },
  { path: "/jobs", page: lazy(() => import("@/pages/jobs/JobsPage")), nav: { label: "Jobs" } },
  { path: "/account", page: lazy(() => import("@/pages/account/AccountPage")), nav: { label: "Account" } },
  {
    path: "/admin/:section?",
    page: lazy(() => import("@/pages/admin/AdminPage")),
    nav: { label: "Admin", adminOnly: true },
  },
];

/** Where `/` and a signed-in visit to a sign-in page lead. */
export const HOME = "/chat";
