import type { HTMLAttributes } from "react";

import { cn } from "@/lib/utils";

type Props = HTMLAttributes<HTMLDivElement>;

export const Card = ({ className, ...props }: Props) => (
  <div className={cn("rounded-xl border bg-card text-card-foreground shadow-xs", className)} {...props} />
);
export const CardHeader = ({ className, ...props }: Props) => (
  <div className={cn("flex flex-col gap-1 p-5 pb-3", className)} {...props} />
);
export const CardTitle = ({ className, ...props }: HTMLAttributes<HTMLHeadingElement>) => (
  <h2 className={cn("font-semibold leading-none", className)} {...props} />
);
export const CardDescription = ({ className, ...props }: HTMLAttributes<HTMLParagraphElement>) => (
  <p className={cn("text-sm text-muted-foreground", className)} {...props} />
);
export const CardContent = ({ className, ...props }: Props) => <div className={cn("p-5 pt-0", className)} {...props} />;
export const CardFooter = ({ className, ...props }: Props) => (
  <div className={cn("flex items-center gap-2 p-5 pt-0", className)} {...props} />
);
