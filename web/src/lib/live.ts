/**
 * Live queries over `WS /api/realtime` (docs/api/realtime.md): one socket per tab, shared by
 * every subscription, with the session cookie. Reconnects with backoff and resubscribes
 * everything; asks for patches (`"patch": true`) and applies them to the version it holds,
 * subscribing afresh whenever a patch does not fit. `useLiveQuery` is Convex's `useQuery`.
 */
import { useEffect, useState } from "react";

export type Args = Record<string, unknown>;
type Row = { id?: unknown } & Record<string, unknown>;
export type PatchOp =
  | { op: "set"; key: string; value: unknown }
  | { op: "delete"; key: string; id: unknown }
  | { op: "update"; key: string; id: unknown; row: Row }
  | { op: "insert"; key: string; index: number; row: Row };

export interface LiveError {
  code: string;
  message: string;
}

interface Subscription {
  query: string;
  args: Args;
  version: number;
  data: unknown;
  onData: (data: unknown) => void;
  onError: (error: LiveError) => void;
}

type ServerMessage =
  | { type: "result"; id: string; version: number; data: unknown }
  | { type: "patch"; id: string; version: number; ops: PatchOp[] }
  | { type: "error"; id: string | null; code: string; message: string }
  | { type: "resync"; reason: string }
  | { type: "ping" }
  | { type: "pong" };

/** The new result after `ops`; null when they do not fit the result held (resubscribe). */
export function applyPatch(data: unknown, ops: PatchOp[]): unknown {
  if (!data || typeof data !== "object") return null;
  const out = structuredClone(data) as Record<string, unknown>;
  for (const op of ops) {
    if (op.op === "set") {
      out[op.key] = op.value;
      continue;
    }
    const rows = out[op.key];
    if (!Array.isArray(rows)) return null;
    if (op.op === "insert") {
      rows.splice(op.index, 0, op.row);
      continue;
    }
    const index = rows.findIndex((row: Row) => row.id === op.id);
    if (index < 0) return null;
    if (op.op === "delete") rows.splice(index, 1);
    else rows[index] = op.row;
  }
  return out;
}

const MAX_BACKOFF_MS = 10_000;

export class LiveClient {
  private socket: WebSocket | null = null;
  private readonly subs = new Map<string, Subscription>();
  private next = 1;
  private attempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Called when the server ends the socket's credentials (sign-out, revoked, banned). */
  onSignedOut: ((reason: string) => void) | null = null;
  /** Connection state for an indicator: "connecting" | "open" | "closed". */
  state: "connecting" | "open" | "closed" = "closed";
  private readonly stateListeners = new Set<() => void>();

  constructor(private readonly url: string) {}

  subscribe(query: string, args: Args, onData: (data: unknown) => void, onError: (e: LiveError) => void): () => void {
    const id = `s${this.next++}`;
    this.subs.set(id, { query, args, version: 0, data: undefined, onData, onError });
    this.ensureOpen();
    this.sendSubscribe(id);
    return () => {
      this.subs.delete(id);
      this.send({ type: "unsubscribe", id });
    };
  }

  /** Drop the socket (sign-out); the next subscription opens a new one. */
  reset(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.socket?.close(1000);
    this.socket = null;
    this.setState("closed");
  }

  onStateChange(listener: () => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  private setState(state: LiveClient["state"]): void {
    this.state = state;
    for (const listener of this.stateListeners) listener();
  }

  private ensureOpen(): void {
    if (this.socket) return;
    this.closed = false;
    this.connect();
  }

  private connect(): void {
    this.setState("connecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempts = 0;
      this.setState("open");
      for (const id of this.subs.keys()) this.sendSubscribe(id);
    };
    socket.onmessage = (event: MessageEvent<string>) => this.receive(JSON.parse(event.data) as ServerMessage);
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.setState("closed");
      if (event.code === 4401 || event.code === 4403) {
        this.onSignedOut?.(event.reason);
        return;
      }
      if (this.closed || this.subs.size === 0) return;
      // Exponential backoff with jitter: a restarted server is not met by every tab at once.
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempts++) * (0.5 + Math.random() / 2);
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    };
  }

  private receive(message: ServerMessage): void {
    if (message.type === "result" || message.type === "patch") {
      const sub = this.subs.get(message.id);
      if (!sub || message.version <= sub.version) return;
      const data =
        message.type === "result"
          ? message.data
          : message.version === sub.version + 1
            ? applyPatch(sub.data, message.ops)
            : null;
      if (data === null) {
        this.sendSubscribeAgain(message.id);
        return;
      }
      sub.version = message.version;
      sub.data = data;
      sub.onData(data);
    } else if (message.type === "error" && message.id) {
      const sub = this.subs.get(message.id);
      if (sub && message.code !== "duplicate_id") {
        this.subs.delete(message.id);
        sub.onError({ code: message.code, message: message.message });
      }
    }
  }

  private sendSubscribe(id: string): void {
    const sub = this.subs.get(id);
    if (!sub) return;
    sub.version = 0;
    this.send({ type: "subscribe", id, query: sub.query, args: sub.args, patch: true });
  }

  private sendSubscribeAgain(id: string): void {
    this.send({ type: "unsubscribe", id });
    this.sendSubscribe(id);
  }

  private send(message: object): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}

export const live = new LiveClient(`${window.location.origin.replace(/^http/, "ws")}/api/realtime`);

export interface LiveResult<T> {
  /** undefined until the first result arrives. */
  data: T | undefined;
  error: LiveError | null;
}

/** The query's current result, kept up to date; `enabled: false` (or null args) waits. */
export function useLiveQuery<T>(query: string, args: Args | null = {}): LiveResult<T> {
  const [state, setState] = useState<LiveResult<T>>({ data: undefined, error: null });
  const key = args === null ? null : JSON.stringify(args);
  useEffect(() => {
    if (key === null) return undefined;
    setState({ data: undefined, error: null });
    return live.subscribe(
      query,
      JSON.parse(key) as Args,
      (data) => setState({ data: data as T, error: null }),
      (error) => setState((previous) => ({ data: previous.data, error })),
    );
  }, [query, key]);
  return state;
}
