/** One message of the conversation: its text (plain text, line breaks kept; React escapes
 * it, so no HTML from a model or a user is ever interpreted) and its tool calls as cards. */
import { isToolUIPart } from "ai";
import { memo } from "react";

import { cn } from "@/lib/utils";

import type { ChatMessage } from "./types";
import { ToolCard } from "./ToolCard";

// useChat replaces only the message that changes, so while an answer streams the others
// keep their identity and skip rendering.
export const MessageItem = memo(function MessageItem({
  message,
  streaming,
  stopped = false,
}: {
  message: ChatMessage;
  streaming: boolean;
  /** Stopped by the user just now. */
  stopped?: boolean;
}) {
  const mine = message.role === "user";
  const status = message.metadata?.status;
  const parts = message.parts.filter((part) => part.type === "text" || isToolUIPart(part));
  const empty = !parts.some((part) => (part.type === "text" ? part.text.trim() : true));
  return (
    <li className={cn("flex", mine ? "justify-end" : "justify-start")}>
      <article
        aria-label={mine ? "You" : "Assistant"}
        data-role={message.role}
        className={cn(
          "max-w-[min(42rem,90%)] rounded-2xl px-4 py-2 text-sm",
          mine ? "bg-primary text-primary-foreground" : "border bg-muted/40",
        )}
      >
        <p className={cn("mb-1 text-xs font-medium", mine ? "text-primary-foreground/80" : "text-muted-foreground")}>
          {mine ? "You" : "Assistant"}
        </p>
        {parts.map((part, index) =>
          part.type === "text" ? (
            <p key={index} data-testid={mine ? undefined : "answer-text"} className="break-words whitespace-pre-wrap">
              {part.text}
            </p>
          ) : isToolUIPart(part) ? (
            <ToolCard key={part.toolCallId} part={part} />
          ) : null,
        )}
        {empty && streaming && <p className="text-muted-foreground">Thinking…</p>}
        {(stopped || status === "canceled") && <p className="mt-1 text-xs text-muted-foreground">Stopped.</p>}
        {status === "error" && (
          <p className="mt-1 text-xs text-destructive">
            The answer broke off{message.metadata?.error ? `: ${message.metadata.error}` : "."}
          </p>
        )}
      </article>
    </li>
  );
});
