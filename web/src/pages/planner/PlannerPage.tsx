import { PageHeader } from "@/components/layout/Layout";

/** Placeholder until this page is built. */
export default function PlannerPage() {
  return <PageHeader title="Planner" description="Coming soon." />;
}
