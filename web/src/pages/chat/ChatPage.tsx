import { PageHeader } from "@/components/layout/Layout";

/** Placeholder until this page is built. */
export default function ChatPage() {
  return <PageHeader title="Chat" description="Coming soon." />;
}
