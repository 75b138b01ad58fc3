import { PageHeader } from "@/components/layout/Layout";

/** Placeholder until this page is built. */
export default function ForgotPasswordPage() {
  return <PageHeader title="ForgotPassword" description="Coming soon." />;
}
