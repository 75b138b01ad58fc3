/**
 * A live list with "load more": the first page is one live subscription whose `limit` grows
 * by a page at a time up to the API's maximum (200), so every row shown stays live. Past that,
 * each further page is a live subscription of its own, starting at the previous page's
 * *current* `next_cursor`: when a new row pushes one off the end of a page, the next page is
 * asked again from the new cursor, so that row moves down instead of vanishing.
 */
import { useEffect, useRef, useState } from "react";

import type { Page } from "@/lib/api";
import { type Args, live, type LiveError } from "@/lib/live";

const MAX_LIMIT = 200;

export interface LiveList<T> {
  /** undefined until the first page arrives. */
  rows: T[] | undefined;
  error: LiveError | null;
  hasMore: boolean;
  loadingMore: boolean;
  loadMore: () => void;
}

interface Shape {
  argsKey: string;
  firstLimit: number;
  /** How many pages after the first were asked for. */
  extraPages: number;
}

export function useLiveList<T extends { id: string }>(query: string, args: Args, pageSize = 50): LiveList<T> {
  const argsKey = JSON.stringify(args);
  const [shape, setShape] = useState<Shape>({ argsKey, firstLimit: pageSize, extraPages: 0 });
  const [pages, setPages] = useState<(Page<T> | undefined)[]>([]);
  const [error, setError] = useState<LiveError | null>(null);
  const subscriptions = useRef(new Map<number, { key: string; stop: () => void }>());

  // New arguments start again from one page (state adjusted while rendering, not in an effect,
  // so no frame shows the old arguments' rows).
  let current = shape;
  if (shape.argsKey !== argsKey) {
    current = { argsKey, firstLimit: pageSize, extraPages: 0 };
    setShape(current);
    setPages([]);
    setError(null);
  }

  // The arguments of each page to hold now; a page waits for the cursor of the one before it.
  const wanted: string[] = [JSON.stringify({ ...args, limit: current.firstLimit })];
  for (let index = 1; index <= current.extraPages; index++) {
    const cursor = pages[index - 1]?.next_cursor;
    if (!cursor) break;
    wanted.push(JSON.stringify({ ...args, limit: MAX_LIMIT, cursor }));
  }
  const wantedKey = JSON.stringify(wanted);

  useEffect(() => {
    const held = subscriptions.current;
    const keys = JSON.parse(wantedKey) as string[];
    keys.forEach((key, index) => {
      const existing = held.get(index);
      if (existing?.key === key) return;
      // Until the new subscription's first result, the page keeps its last rows.
      existing?.stop();
      const stop = live.subscribe(
        query,
        JSON.parse(key) as Args,
        (data) =>
          setPages((all) => {
            const next = [...all];
            next[index] = data as Page<T>;
            return next;
          }),
        setError,
      );
      held.set(index, { key, stop });
    });
    for (const [index, subscription] of held) {
      if (index >= keys.length) {
        subscription.stop();
        held.delete(index);
      }
    }
    setPages((all) => (all.length > keys.length ? all.slice(0, keys.length) : all));
  }, [query, wantedKey]);

  // Everything ends with the component (or the query).
  useEffect(() => {
    const held = subscriptions.current;
    return () => {
      for (const subscription of held.values()) subscription.stop();
      held.clear();
    };
  }, [query]);

  const loaded = pages.slice(0, wanted.length);
  const complete = loaded.length === wanted.length && loaded.every(Boolean);
  let rows: T[] | undefined;
  if (loaded[0]) {
    const seen = new Set<string>();
    rows = [];
    for (const page of loaded) {
      for (const row of page?.data ?? []) {
        // Pages can overlap for a moment while a row moves from one to the next.
        if (!seen.has(row.id)) {
          seen.add(row.id);
          rows.push(row);
        }
      }
    }
  }
  const last = complete ? loaded[loaded.length - 1] : undefined;
  const waitingForPage = wanted.length < 1 + current.extraPages;

  const loadMore = () => {
    if (!last?.next_cursor) return;
    setShape(
      current.extraPages === 0 && current.firstLimit < MAX_LIMIT
        ? { ...current, firstLimit: Math.min(MAX_LIMIT, current.firstLimit + pageSize) }
        : { ...current, extraPages: current.extraPages + 1 },
    );
  };

  return {
    rows,
    error,
    hasMore: Boolean(last?.next_cursor) && !waitingForPage,
    loadingMore: Boolean(loaded[0]) && !complete,
    loadMore,
  };
}
