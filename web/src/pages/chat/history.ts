/**
 * A session's stored messages as `useChat` messages, a page at a time from the newest
 * (`GET /api/chat/messages?order=newest`): the page opens at the end of a conversation and
 * scrolling up asks for older pages with the previous page's cursor.
 */
import { api, type Page } from "@/lib/api";

import type { ChatMessage, StoredMessage } from "./types";

export const PAGE_SIZE = 30;

export interface HistoryPage {
  /** Oldest first, ready to render. */
  messages: ChatMessage[];
  /** The cursor of the next older page; null at the first message. */
  olderCursor: string | null;
}

export function toChatMessage(stored: StoredMessage): ChatMessage | null {
  if (stored.role !== "user" && stored.role !== "assistant") return null;
  return {
    id: stored.id,
    role: stored.role,
    parts: stored.parts,
    metadata: {
      sessionId: stored.session_id,
      status: stored.status,
      error: stored.error,
      model: stored.model,
    },
  };
}

export async function loadHistory(
  sessionId: string,
  cursor: string | null = null,
  signal?: AbortSignal,
): Promise<HistoryPage> {
  const page = await api<Page<StoredMessage>>("/api/chat/messages", {
    query: { sessionId, limit: PAGE_SIZE, order: "newest", cursor },
    signal,
  });
  const messages = page.data
    .map(toChatMessage)
    .filter((message): message is ChatMessage => message !== null)
    .reverse();
  return { messages, olderCursor: page.next_cursor };
}

/** A new chat's id. The server uses a UUID as the session id as it is, so the address
 * `/chat/<id>` names the session from its first answer on. `randomUUID` needs a secure
 * context (https or localhost); `getRandomValues` does not. */
export function newChatId(): string {
  if (typeof crypto.randomUUID === "function" && window.isSecureContext) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isSessionId = (value: string): boolean => UUID.test(value);
