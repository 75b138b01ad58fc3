import { PageHeader } from "@/components/layout/Layout";

/** Placeholder until this page is built. */
export default function ReservationsPage() {
  return <PageHeader title="Reservations" description="Coming soon." />;
}
