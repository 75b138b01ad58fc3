import { Badge } from "@/components/ui/badge";

import type { JobStatus } from "./types";

const VARIANT = {
  queued: "outline",
  running: "secondary",
  succeeded: "success",
  failed: "destructive",
  canceled: "outline",
} as const;

export function JobStatusBadge({ status }: { status: JobStatus }) {
  return <Badge variant={VARIANT[status]}>{status}</Badge>;
}
