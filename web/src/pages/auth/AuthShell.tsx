import type { ReactNode } from "react";

import { ThemeToggle } from "@/components/layout/ThemeToggle";
import { Card, CardContent, CardDescription, CardHeader } from "@/components/ui/card";

/** The signed-out pages' frame: one card in the middle of the screen. */
export function AuthShell({ title, description, children }: { title: string; description?: string; children: ReactNode }) {
  return (
    <main id="main" className="grid min-h-dvh place-items-center px-4 py-10">
      <div className="w-full max-w-sm">
        <div className="mb-4 flex items-center justify-between">
          <span className="font-semibold">Everything-App</span>
          <ThemeToggle />
        </div>
        <Card>
          <CardHeader>
            <h1 className="text-xl font-semibold">{title}</h1>
            {description && <CardDescription>{description}</CardDescription>}
          </CardHeader>
          <CardContent>{children}</CardContent>
        </Card>
      </div>
    </main>
  );
}
