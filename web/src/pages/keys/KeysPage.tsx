import { PageHeader } from "@/components/layout/Layout";

/** Placeholder until this page is built. */
export default function KeysPage() {
  return <PageHeader title="Keys" description="Coming soon." />;
}
