import { PageHeader } from "@/components/layout/Layout";

/** Placeholder until this page is built. */
export default function AccountPage() {
  return <PageHeader title="Account" description="Coming soon." />;
}
