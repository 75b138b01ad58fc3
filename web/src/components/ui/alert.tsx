import type { HTMLAttributes } from "react";

import { cn } from "@/lib/utils";

/** A message in the page. Errors are `role="alert"` (read out at once), the rest `status`. */
export function Alert({
  variant = "default",
  className,
  ...props
}: HTMLAttributes<HTMLDivElement> & { variant?: "default" | "destructive" | "success" }) {
  return (
    <div
      role={variant === "destructive" ? "alert" : "status"}
      className={cn(
        "rounded-lg border px-4 py-3 text-sm",
        variant === "destructive" && "border-destructive/50 text-destructive",
        variant === "success" && "border-success/50 text-success",
        className,
      )}
      {...props}
    />
  );
}
