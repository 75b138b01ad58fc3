import { PageHeader } from "@/components/layout/Layout";

/** Placeholder until this page is built. */
export default function JobsPage() {
  return <PageHeader title="Jobs" description="Coming soon." />;
}
