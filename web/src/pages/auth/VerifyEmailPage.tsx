import { PageHeader } from "@/components/layout/Layout";

/** Placeholder until this page is built. */
export default function VerifyEmailPage() {
  return <PageHeader title="VerifyEmail" description="Coming soon." />;
}
