import { PageHeader } from "@/components/layout/Layout";

/** Placeholder until this page is built. */
export default function ResetPasswordPage() {
  return <PageHeader title="ResetPassword" description="Coming soon." />;
}
