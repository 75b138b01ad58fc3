/**
 * One chat, driven by the AI SDK's `useChat` with our transport: streaming, stop,
 * regenerate, resume (after a reload and after a dropped connection), older messages on
 * scrolling up, and the errors a person can act on.
 */
import { Chat, useChat } from "@ai-sdk/react";
import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { api, ApiError, errorMessage } from "@/lib/api";
import { localTimeZone } from "@/lib/format";

import { Composer } from "./Composer";
import { type HistoryPage, loadHistory, newChatId } from "./history";
import { MessageItem } from "./MessageItem";
import { isDisconnect, ServerChatTransport } from "./transport";
import type { ChatMessage, ModelList } from "./types";

/** How close to the bottom (px) still counts as "reading the latest": new text follows. */
const STICK_PX = 80;
/** How close to the top (px) asks for older messages. */
const OLDER_PX = 160;

type Action = "send" | "regenerate" | "resume";

export interface ConversationProps {
  chatId: string;
  initial: ChatMessage[];
  olderCursor: string | null;
  /** The chat exists on the server: ask it for an answer still being written. */
  resume: boolean;
  models: ModelList | null;
  model: string;
  onModel: (model: string) => void;
  /** The server named this chat's session (the first answer's `start` chunk). */
  onSessionKnown: (sessionId: string) => void;
}

export function Conversation(props: ConversationProps) {
  const { chatId, resume, models, model, onModel, onSessionKnown } = props;
  const modelRef = useRef(model);
  modelRef.current = model;
  /** The last stream broke off (network): what we show may be short of the stored answer. */
  const streamBroke = useRef(false);
  const [olderCursor, setOlderCursor] = useState(props.olderCursor);
  const older = useRef({ cursor: props.olderCursor, loading: false });
  const [chat] = useState(() => {
    const created: Chat<ChatMessage> = new Chat<ChatMessage>({
      id: chatId,
      messages: props.initial,
      transport: new ServerChatTransport({
        extraBody: () => ({ model: modelRef.current || undefined, timezone: localTimeZone() }),
        onNothingToResume: () => void refreshIfStale(),
      }),
      onFinish: ({ isDisconnect: broke }) => {
        streamBroke.current = broke;
      },
    });
    /** A resume found nothing streaming: an answer we showed partly (a broken stream, or a
     * reload's history taken mid-answer) ended while we were away, so read it as stored. */
    async function refreshIfStale() {
      const last = created.lastMessage;
      const stale = streamBroke.current || last?.role === "user" || last?.metadata?.status === "streaming";
      if (!stale) return;
      const shown = created.messages;
      let page: HistoryPage;
      try {
        page = await loadHistory(chatId);
      } catch {
        return; // a chat the server never made (its first question never arrived)
      }
      // Only if nothing happened meanwhile (a new question, an answer streaming).
      if (created.messages !== shown || created.status === "submitted" || created.status === "streaming") return;
      streamBroke.current = false;
      created.messages = page.messages;
      older.current.cursor = page.olderCursor;
      setOlderCursor(page.olderCursor);
    }
    return created;
  });
  const { messages, status, error, clearError } = useChat({ chat, resume });
  const busy = status === "submitted" || status === "streaming";
  const lastAction = useRef<Action | null>(resume ? "resume" : null);
  const [input, setInput] = useState("");
  /** The answer the user stopped (until its stored status says so after a reload). */
  const [stoppedId, setStoppedId] = useState<string | null>(null);
  const inputId = useId();

  /** We stopped reading an answer because the browser went offline. */
  const [cut, setCut] = useState(false);
  const connectionLost =
    cut ||
    (status === "error" &&
      (isDisconnect(error) || (error instanceof ApiError && error.status === 0 && lastAction.current === "resume")));

  // Leaving this chat stops reading its answer (the server finishes and stores it).
  useEffect(() => () => void chat.stop(), [chat]);

  // --- the session's address, once the server has made it --------------------------------
  const sessionId = messages.findLast((m) => m.role === "assistant" && m.metadata?.sessionId)?.metadata?.sessionId;
  useEffect(() => {
    if (sessionId) onSessionKnown(sessionId);
  }, [sessionId, onSessionKnown]);

  // --- scrolling: follow the answer at the bottom, keep the place when older ones arrive ---
  const scrollRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const heightBelow = useRef<number | null>(null);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    if (heightBelow.current !== null) {
      el.scrollTop = el.scrollHeight - heightBelow.current;
      heightBelow.current = null;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [messages, status]);

  useEffect(() => {
    // The log got shorter or taller (window resized, an alert shown): stay at the latest.
    const el = scrollRef.current;
    if (!el) return;
    const observer = new ResizeObserver(() => {
      if (stick.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<string | null>(null);

  const loadOlder = useCallback(async () => {
    const { cursor, loading } = older.current;
    if (!cursor || loading) return;
    older.current.loading = true;
    setLoadingOlder(true);
    setOlderError(null);
    try {
      const page = await loadHistory(chatId, cursor);
      const el = scrollRef.current;
      heightBelow.current = el ? el.scrollHeight - el.scrollTop : null;
      const known = new Set(chat.messages.map((m) => m.id));
      chat.messages = [...page.messages.filter((m) => !known.has(m.id)), ...chat.messages];
      older.current.cursor = page.olderCursor;
      setOlderCursor(page.olderCursor);
    } catch (failure) {
      setOlderError(errorMessage(failure));
    } finally {
      older.current.loading = false;
      setLoadingOlder(false);
    }
  }, [chat, chatId]);

  function onScroll() {
    const el = scrollRef.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
    if (el.scrollTop < OLDER_PX && el.scrollHeight > el.clientHeight) void loadOlder();
  }

  // --- offline and back: the answer goes on on the server; read it again from there --------
  const resumeAnswer = useCallback(() => {
    setCut(false);
    lastAction.current = "resume";
    void chat.resumeStream();
  }, [chat]);
  useEffect(() => {
    function offline() {
      // Only an answer already coming is cut: a question still on its way either arrives
      // (and its answer streams) or fails as a send, which gives the text back.
      if (chat.status !== "streaming") return;
      // A dead network seldom fails a stream promptly; it stalls. Stop reading now (the
      // server keeps writing the answer) and resume from the server once back online.
      setCut(true);
      void chat.stop().then(() => {
        streamBroke.current = true;
      });
    }
    window.addEventListener("offline", offline);
    return () => window.removeEventListener("offline", offline);
  }, [chat]);
  useEffect(() => {
    if (!connectionLost) return;
    window.addEventListener("online", resumeAnswer);
    return () => window.removeEventListener("online", resumeAnswer);
  }, [connectionLost, resumeAnswer]);

  // --- actions -------------------------------------------------------------------------------
  async function send() {
    const text = input;
    if (!text.trim() || busy) return;
    setInput("");
    stick.current = true;
    lastAction.current = "send";
    const questionId = newChatId();
    await chat.sendMessage({ id: questionId, role: "user", parts: [{ type: "text", text }] });
    if (chat.status === "error" && chat.error instanceof ApiError) {
      // Refused before any answer (429, 409, offline…): nothing was stored, so the question
      // leaves the conversation and its text goes back into the box to send again.
      chat.messages = chat.messages.filter((m) => m.id !== questionId);
      setInput((current) => current || text);
      document.getElementById(inputId)?.focus();
    }
  }

  async function regenerate() {
    if (busy) return;
    const before = chat.messages;
    stick.current = true;
    lastAction.current = "regenerate";
    await chat.regenerate();
    // Refused: the server kept the old answer, so the page shows it again.
    if (chat.status === "error" && chat.error instanceof ApiError) chat.messages = before;
  }

  async function stopAnswer() {
    // The answer belongs to the server: closing our connection alone would not stop it. The
    // server ends the stream once stopped, so what the page shows is what it stored.
    const answer = chat.lastMessage?.role === "assistant" ? chat.lastMessage.id : null;
    try {
      const { stopped } = await api<{ stopped: boolean }>(`/api/chat/${encodeURIComponent(chatId)}/stop`, {
        method: "POST",
      });
      if (stopped && answer) setStoppedId(answer);
      if (stopped) return;
    } catch {
      // Unreachable server: at least stop reading.
    }
    await chat.stop();
  }

  const last = messages[messages.length - 1];
  const canRegenerate = !busy && !connectionLost && last?.role === "assistant";

  return (
    <section aria-label="Conversation" className="flex min-h-0 min-w-0 flex-1 flex-col">
      <div
        ref={scrollRef}
        onScroll={onScroll}
        tabIndex={0}
        role="log"
        aria-label="Messages"
        aria-busy={busy}
        className="min-h-0 flex-1 overflow-y-auto rounded-md px-1 pb-3 focus-visible:outline-2 focus-visible:outline-ring"
      >
        {olderCursor ? (
          <div className="flex justify-center py-2">
            <Button variant="ghost" size="sm" onClick={() => void loadOlder()} disabled={loadingOlder}>
              {loadingOlder ? "Loading older messages…" : "Load older messages"}
            </Button>
          </div>
        ) : (
          messages.length > 0 && (
            <p className="py-2 text-center text-xs text-muted-foreground">Start of the conversation</p>
          )
        )}
        {olderError && <Alert variant="destructive">{olderError}</Alert>}
        {messages.length === 0 && !busy && (
          <div className="grid h-full place-items-center text-center text-sm text-muted-foreground">
            <div>
              <p className="text-base font-medium text-foreground">Start a conversation</p>
              <p className="mt-1">Ask a question, or try “remind me to buy milk tomorrow”.</p>
            </div>
          </div>
        )}
        <ol className="grid gap-3">
          {messages.map((message) => (
            <MessageItem
              key={message.id}
              message={message}
              streaming={busy && message === last && message.role === "assistant"}
              stopped={message.id === stoppedId}
            />
          ))}
        </ol>
        {status === "submitted" && last?.role !== "assistant" && (
          <p className="mt-3 text-sm text-muted-foreground">Thinking…</p>
        )}
        {canRegenerate && (
          <div className="mt-2">
            <Button variant="outline" size="sm" onClick={() => void regenerate()}>
              Regenerate
            </Button>
          </div>
        )}
      </div>

      {connectionLost ? (
        <Alert variant="destructive" className="mb-2 flex flex-wrap items-center justify-between gap-2">
          <span>Connection lost. The answer is still being written on the server.</span>
          <Button size="sm" variant="outline" onClick={resumeAnswer}>
            Resume
          </Button>
        </Alert>
      ) : (
        status === "error" &&
        error && (
          <Alert variant="destructive" className="mb-2 flex flex-wrap items-center justify-between gap-2">
            <span>
              {errorMessage(error)}
              {error instanceof ApiError && error.retryAfter ? ` Try again in ${error.retryAfter} s.` : ""}
            </span>
            <Button size="sm" variant="ghost" onClick={clearError}>
              Dismiss
            </Button>
          </Alert>
        )
      )}

      <Composer
        value={input}
        onChange={setInput}
        onSend={() => void send()}
        onStop={() => void stopAnswer()}
        busy={busy || connectionLost}
        streaming={busy}
        models={models}
        model={model}
        onModel={onModel}
        inputId={inputId}
      />
    </section>
  );
}
