/**
 * The AI SDK's own `DefaultChatTransport`, pointed at our server:
 * - a send carries only the new question (the server trusts its stored history, never the
 *   client's copy) plus the chosen model and the user's time zone;
 * - a resume is `GET /api/chat/{id}/stream` (204 when nothing streams); the server replays
 *   the answer from its start, which `resumeStreamIsReplay` (on by default) expects;
 * - a refused request becomes an `ApiError` with the server's message and Retry-After,
 *   instead of the SDK's `Error(<response text>)`.
 */
import { DefaultChatTransport } from "ai";

import { ApiError, toError } from "@/lib/api";

import type { ChatMessage } from "./types";

export interface TransportHooks {
  /** Fields added to every send: the model, the time zone. Read at send time. */
  extraBody: () => Record<string, unknown>;
  /** A resume found nothing streaming (the answer ended while we were away). */
  onNothingToResume: () => void;
}

async function chatFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(input, init);
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    // The request never got an answer: nothing was started, so this is a failed send (the
    // typed text comes back), not a dropped stream to resume.
    throw new ApiError(0, "network_error", "The server could not be reached. Check your connection.");
  }
  if (!response.ok) throw await toError(response);
  return response;
}

export class ServerChatTransport extends DefaultChatTransport<ChatMessage> {
  private readonly hooks: TransportHooks;

  constructor(hooks: TransportHooks) {
    super({
      api: "/api/chat",
      credentials: "same-origin",
      fetch: chatFetch,
      prepareSendMessagesRequest: ({ id, messages, trigger, messageId, body }) => ({
        body: { ...body, ...hooks.extraBody(), id, trigger, messageId, messages: messages.slice(-1) },
      }),
      prepareReconnectToStreamRequest: ({ id }) => ({ api: `/api/chat/${encodeURIComponent(id)}/stream` }),
    });
    this.hooks = hooks;
  }

  override async reconnectToStream(
    options: Parameters<DefaultChatTransport<ChatMessage>["reconnectToStream"]>[0],
  ): ReturnType<DefaultChatTransport<ChatMessage>["reconnectToStream"]> {
    const stream = await super.reconnectToStream(options);
    if (stream === null) this.hooks.onNothingToResume();
    return stream;
  }
}

/** A stream that broke off after it started (the SDK's "disconnect"): resumable. */
export function isDisconnect(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false;
  const message = error.message.toLowerCase();
  return message.includes("fetch") || message.includes("network");
}
