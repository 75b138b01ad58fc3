/** Whether the page is receiving live changes, so a person knows when to trust "live". */
import { useSyncExternalStore } from "react";

import { Badge } from "@/components/ui/badge";
import { live } from "@/lib/live";

const subscribe = (onChange: () => void) => live.onStateChange(onChange);
const getState = () => live.state;

export function LiveStatus() {
  const state = useSyncExternalStore(subscribe, getState);
  return (
    <span role="status" aria-live="polite">
      {state === "open" ? (
        <Badge variant="outline">
          <span className="mr-1.5 size-2 rounded-full bg-success" aria-hidden />
          Live
        </Badge>
      ) : (
        // Closed is also the state before the first subscription and between retries.
        <Badge variant="outline">Connecting…</Badge>
      )}
    </span>
  );
}
