import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";

import { cn } from "@/lib/utils";

interface Toast {
  id: number;
  title: string;
  description?: string;
  variant: "default" | "destructive" | "success";
}

type Show = (toast: Omit<Toast, "id" | "variant"> & { variant?: Toast["variant"] }) => void;

const ToastContext = createContext<Show>(() => undefined);

/** Short-lived messages, announced by screen readers through one polite live region. */
export function Toaster({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((t) => t.id !== id)), []);
  const show = useCallback<Show>(
    (toast) => {
      const id = Date.now() + Math.random();
      setToasts((all) => [...all.slice(-3), { variant: "default", ...toast, id }]);
      setTimeout(() => dismiss(id), 6000);
    },
    [dismiss],
  );
  const value = useMemo(() => show, [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div aria-live="polite" className="fixed right-4 bottom-4 z-50 flex w-80 max-w-[calc(100vw-2rem)] flex-col gap-2">
        {toasts.map((toast) => (
          <div
            key={toast.id}
            data-testid="toast"
            className={cn(
              "rounded-lg border bg-card p-3 text-sm shadow-lg",
              toast.variant === "destructive" && "border-destructive/60",
              toast.variant === "success" && "border-success/60",
            )}
          >
            <div className="flex items-start justify-between gap-2">
              <p className="font-medium">{toast.title}</p>
              <button
                type="button"
                className="text-muted-foreground hover:text-foreground"
                aria-label="Dismiss"
                onClick={() => dismiss(toast.id)}
              >
                ×
              </button>
            </div>
            {toast.description && <p className="mt-1 text-muted-foreground">{toast.description}</p>}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export const useToast = (): Show => useContext(ToastContext);
