import { Link, useParams } from "wouter";

import { PageHeader } from "@/components/layout/Layout";
import { Alert } from "@/components/ui/alert";
import { isAdmin, useSession } from "@/lib/auth";
import { cn } from "@/lib/utils";

import { QueueBoard } from "./QueueBoard";
import { ServicesAdmin } from "./ServicesAdmin";
import { UsersAdmin } from "./UsersAdmin";

const SECTIONS = [
  { key: "services", label: "Services", Section: ServicesAdmin },
  { key: "queue", label: "Queue board", Section: QueueBoard },
  { key: "users", label: "Users", Section: UsersAdmin },
] as const;

/** `/admin/:section?`: services, the queue board, users. Administrators only. */
export default function AdminPage() {
  const { section } = useParams<{ section?: string }>();
  const { data } = useSession();
  if (!isAdmin(data?.user as { role?: string } | undefined)) {
    return (
      <>
        <PageHeader title="Admin" />
        <Alert variant="destructive">This page is for administrators only.</Alert>
      </>
    );
  }
  const current = SECTIONS.find((s) => s.key === section) ?? SECTIONS[0];
  const { Section } = current;
  return (
    <>
      <PageHeader title="Admin" description="Services and their opening hours, the queues, and who may do what." />
      <nav aria-label="Admin sections" className="mb-6 flex gap-1 border-b">
        {SECTIONS.map(({ key, label }) => (
          <Link
            key={key}
            href={`/admin/${key}`}
            aria-current={key === current.key ? "page" : undefined}
            className={cn(
              "-mb-px border-b-2 border-transparent px-3 py-2 text-sm font-medium text-muted-foreground hover:text-foreground",
              key === current.key && "border-primary text-foreground",
            )}
          >
            {label}
          </Link>
        ))}
      </nav>
      <Section />
    </>
  );
}
