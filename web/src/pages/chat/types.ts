/** The chat API's shapes this page uses (src/everything_app/chat/schemas.py, ai/routes.py). */
import type { UIMessage } from "ai";

export interface ChatSession {
  id: string;
  title: string | null;
  model: string;
  created_at: string;
  updated_at: string;
}

export type MessageStatus = "streaming" | "complete" | "error" | "canceled";

/** A stored message (`GET /api/chat/messages`); `parts` are AI SDK UI parts. */
export interface StoredMessage {
  id: string;
  session_id: string;
  role: "user" | "assistant" | "system" | "tool";
  content: string;
  parts: UIMessage["parts"];
  model: string | null;
  status: MessageStatus;
  error: string | null;
  created_at: string;
}

export interface ModelInfo {
  id: string;
  label: string;
  provider: string;
  context_window: number;
  max_output_tokens: number;
}

export interface ModelList {
  data: ModelInfo[];
  default: string;
}

/**
 * What a message carries besides its parts: the stream's `start` chunk names the session
 * (`sessionId`); messages loaded from history carry their stored status, error and model.
 */
export interface ChatMetadata {
  sessionId?: string;
  status?: MessageStatus;
  error?: string | null;
  model?: string | null;
}

export type ChatMessage = UIMessage<ChatMetadata>;
