import { type ReactNode, useEffect, useRef } from "react";

import { cn } from "@/lib/utils";

/** The browser's modal <dialog>: focus trap, Escape and the backdrop come with it. */
export function Dialog({
  open,
  onClose,
  title,
  children,
  className,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  className?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      onClose={onClose}
      aria-label={title}
      className={cn(
        "m-auto w-[min(32rem,calc(100vw-2rem))] rounded-xl border bg-card p-5 text-card-foreground shadow-lg backdrop:bg-black/50",
        className,
      )}
    >
      <h2 className="mb-3 text-lg font-semibold">{title}</h2>
      {open && children}
    </dialog>
  );
}
