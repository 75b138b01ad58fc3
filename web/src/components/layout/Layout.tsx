import type { ReactNode } from "react";
import { Link, useLocation } from "wouter";

import { ROUTES } from "@/app/routes";
import { NotificationBell } from "@/components/layout/NotificationBell";
import { ThemeToggle } from "@/components/layout/ThemeToggle";
import { Button } from "@/components/ui/button";
import { isAdmin, signOut, useSession } from "@/lib/auth";
import { cn } from "@/lib/utils";

function NavLink({ href, label }: { href: string; label: string }) {
  const [location] = useLocation();
  const active = location === href || location.startsWith(`${href}/`);
  return (
    <Link
      href={href}
      aria-current={active ? "page" : undefined}
      className={cn(
        "rounded-md px-3 py-1.5 text-sm font-medium whitespace-nowrap text-muted-foreground hover:bg-accent hover:text-accent-foreground",
        active && "bg-accent text-accent-foreground",
      )}
    >
      {label}
    </Link>
  );
}

/** The signed-in shell: a skip link, the navigation, the page. */
export function Layout({ children }: { children: ReactNode }) {
  const { data } = useSession();
  const admin = isAdmin(data?.user as { role?: string } | undefined);
  const links = ROUTES.filter((route) => route.nav && (!route.nav.adminOnly || admin));
  return (
    <div className="flex min-h-dvh flex-col">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded-md focus:bg-background focus:px-3 focus:py-2"
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-40 border-b bg-background/95 backdrop-blur">
        {/* One row on a wide screen; on a phone the links take a scrolling row of their own
            under the brand and the controls, instead of being squeezed to nothing. */}
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2">
          <Link href="/chat" className="mr-auto font-semibold whitespace-nowrap md:mr-0">
            Everything-App
          </Link>
          <nav
            aria-label="Main"
            className="order-last -mx-1 flex w-full min-w-0 gap-1 overflow-x-auto px-1 md:order-none md:mx-0 md:w-auto md:flex-1 md:px-0"
          >
            {links.map((route) => {
              const href = route.path.replace(/\/:[^/]+\??$/, "");
              return <NavLink key={route.path} href={href} label={route.nav?.label ?? href} />;
            })}
          </nav>
          <div className="flex shrink-0 items-center gap-2">
            <NotificationBell />
            <ThemeToggle />
            <Button variant="ghost" size="sm" onClick={() => void signOut()}>
              Sign out
            </Button>
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="mx-auto w-full max-w-7xl flex-1 px-4 py-6">
        {children}
      </main>
    </div>
  );
}

/** A page's title row: the h1 and its actions. */
export function PageHeader({ title, description, actions }: { title: string; description?: string; actions?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-3">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">{title}</h1>
        {description && <p className="mt-1 text-sm text-muted-foreground">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
    </div>
  );
}
