/**
 * The chat (seeds 000/001): your chats on the left, one conversation on the right. The
 * address names the open chat (`/chat/<session id>`) once the server has made it, so a
 * reload finds its history and resumes an answer still being written.
 */
import { useCallback, useEffect, useId, useRef, useState } from "react";
import { useLocation, useParams } from "wouter";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { api, ApiError, errorMessage, type Page } from "@/lib/api";
import { useLiveQuery } from "@/lib/live";
import { cn } from "@/lib/utils";

import { Conversation } from "./Conversation";
import { isSessionId, loadHistory, newChatId } from "./history";
import { SessionList, untitled } from "./SessionList";
import { useFillViewport } from "./useFillViewport";
import type { ChatMessage, ChatSession, ModelList } from "./types";

const SESSIONS_PAGE = 50;
const MAIN_BOTTOM_PADDING_PX = 24; // the shell's <main> py-6
const SESSIONS_MAX = 200; // the API's largest page

interface OpenChat {
  id: string;
  /** new: not yet sent; loading/ready: a stored chat; missing: no such chat of yours. */
  phase: "new" | "loading" | "ready" | "missing" | "failed";
  /** The server has this chat (stored, or named by its first answer). */
  onServer: boolean;
  initial: ChatMessage[];
  olderCursor: string | null;
  error: string | null;
}

const fresh = (): OpenChat => ({
  id: newChatId(),
  phase: "new",
  onServer: false,
  initial: [],
  olderCursor: null,
  error: null,
});

const stored = (id: string): OpenChat => ({
  id,
  phase: isSessionId(id) ? "loading" : "missing",
  onServer: true,
  initial: [],
  olderCursor: null,
  error: null,
});

export default function ChatPage() {
  const params = useParams<{ id?: string }>();
  const [, navigate] = useLocation();
  const listId = useId();
  const pageRef = useRef<HTMLDivElement>(null);
  useFillViewport(pageRef, MAIN_BOTTOM_PADDING_PX);
  const [listOpen, setListOpen] = useState(false);
  // The list stays live as it grows: "Show more" asks for a longer first page, up to the
  // API's page limit, rather than static older pages that would not follow changes.
  const [listLimit, setListLimit] = useState(SESSIONS_PAGE);
  const sessions = useLiveQuery<Page<ChatSession>>("chat.sessions", { limit: listLimit });
  const [open, setOpen] = useState<OpenChat>(() => (params.id ? stored(params.id) : fresh()));
  const [attempt, setAttempt] = useState(0);

  const [models, setModels] = useState<ModelList | null>(null);
  const [modelsError, setModelsError] = useState<string | null>(null);
  const [model, setModel] = useState("");
  useEffect(() => {
    api<ModelList>("/api/models").then(setModels, (failure) => setModelsError(errorMessage(failure)));
  }, []);
  useEffect(() => {
    // The default until a choice (or the open chat's model) is one the server offers.
    if (models && !models.data.some((spec) => spec.id === model)) setModel(models.default);
  }, [models, model]);

  // The address changed (a chat picked, back/forward, "New chat"): open what it names.
  useEffect(() => {
    setOpen((current) => {
      if (!params.id) return current.onServer ? fresh() : current;
      return params.id === current.id ? current : stored(params.id);
    });
  }, [params.id]);

  useEffect(() => {
    if (open.phase !== "loading") return;
    const { id } = open;
    const controller = new AbortController();
    loadHistory(id, null, controller.signal).then(
      (page) => {
        const used = page.messages.findLast((m) => m.metadata?.model)?.metadata?.model;
        if (used) setModel(used);
        setOpen((current) =>
          current.id === id
            ? { ...current, phase: "ready", initial: page.messages, olderCursor: page.olderCursor }
            : current,
        );
      },
      (failure: unknown) => {
        if (controller.signal.aborted) return;
        const missing = failure instanceof ApiError && (failure.status === 404 || failure.status === 422);
        setOpen((current) =>
          current.id === id ? { ...current, phase: missing ? "missing" : "failed", error: errorMessage(failure) } : current,
        );
      },
    );
    return () => controller.abort();
  }, [open, attempt]);

  const paramId = useRef(params.id);
  paramId.current = params.id;
  const onSessionKnown = useCallback(
    (sessionId: string) => {
      setOpen((current) => (current.id === sessionId && !current.onServer ? { ...current, onServer: true } : current));
      if (paramId.current !== sessionId) navigate(`/chat/${sessionId}`, { replace: true });
    },
    [navigate],
  );

  function startNew() {
    setOpen(fresh());
    setListOpen(false);
    navigate("/chat");
  }

  function onDeleted(id: string) {
    if (id === open.id) startNew();
  }

  const current = sessions.data?.data.find((session) => session.id === open.id);
  const title = current ? untitled(current) : open.phase === "new" ? "New chat" : "Chat";

  return (
    <div ref={pageRef} className="flex h-[calc(100dvh-6.5rem)] min-h-[26rem] flex-col">
      <div className="mb-3 flex items-center gap-2">
        <Button
          variant="outline"
          size="sm"
          className="md:hidden"
          aria-expanded={listOpen}
          aria-controls={listId}
          onClick={() => setListOpen((value) => !value)}
        >
          {listOpen ? "Hide chats" : "Chats"}
        </Button>
        <h1 className="min-w-0 truncate text-xl font-semibold tracking-tight">{title}</h1>
      </div>
      <div className="flex min-h-0 flex-1 gap-4">
        <aside
          id={listId}
          aria-label="Chats"
          className={cn(
            "min-h-0 w-full flex-col md:flex md:w-64 md:shrink-0 md:border-r md:pr-3",
            listOpen ? "flex" : "hidden",
          )}
        >
          <SessionList
            sessions={sessions.data?.data}
            error={sessions.error?.message ?? null}
            activeId={open.id}
            onNew={startNew}
            onOpen={() => setListOpen(false)}
            onDeleted={onDeleted}
            onMore={
              sessions.data?.next_cursor && listLimit < SESSIONS_MAX
                ? () => setListLimit((limit) => Math.min(SESSIONS_MAX, limit + SESSIONS_PAGE))
                : undefined
            }
          />
        </aside>
        {/* On a phone the list takes the place of the conversation while it is open. */}
        <div className={cn("min-h-0 min-w-0 flex-1 flex-col", listOpen ? "hidden md:flex" : "flex")}>
          {modelsError && (
            <Alert variant="destructive" className="mb-2">
              Could not load the models: {modelsError}
            </Alert>
          )}
          {open.phase === "loading" && <Spinner label="Loading the conversation" className="m-auto" />}
          {open.phase === "missing" && (
            <Alert variant="destructive" className="m-auto max-w-md">
              <p>This chat does not exist, or it was deleted.</p>
              <Button size="sm" variant="outline" className="mt-2" onClick={startNew}>
                Start a new chat
              </Button>
            </Alert>
          )}
          {open.phase === "failed" && (
            <Alert variant="destructive" className="m-auto max-w-md">
              <p>Could not load this chat: {open.error}</p>
              <Button
                size="sm"
                variant="outline"
                className="mt-2"
                onClick={() => {
                  setOpen((value) => ({ ...value, phase: "loading" }));
                  setAttempt((n) => n + 1);
                }}
              >
                Try again
              </Button>
            </Alert>
          )}
          {(open.phase === "new" || open.phase === "ready") && (
            <Conversation
              key={open.id}
              chatId={open.id}
              initial={open.initial}
              olderCursor={open.olderCursor}
              resume={open.phase === "ready"}
              models={models}
              model={model}
              onModel={setModel}
              onSessionKnown={onSessionKnown}
            />
          )}
        </div>
      </div>
    </div>
  );
}
