import { Badge } from "@/components/ui/badge";

import type { ReservationStatus } from "./types";

const STATUS_BADGE: Record<ReservationStatus, { label: string; variant: "secondary" | "success" | "outline" }> = {
  pending: { label: "Pending", variant: "secondary" },
  confirmed: { label: "Confirmed", variant: "success" },
  canceled: { label: "Canceled", variant: "outline" },
};

export function StatusBadge({ status }: { status: ReservationStatus }) {
  const { label, variant } = STATUS_BADGE[status];
  return <Badge variant={variant}>{label}</Badge>;
}
