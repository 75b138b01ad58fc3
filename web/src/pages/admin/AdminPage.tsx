import { PageHeader } from "@/components/layout/Layout";

/** Placeholder until this page is built. */
export default function AdminPage() {
  return <PageHeader title="Admin" description="Coming soon." />;
}
