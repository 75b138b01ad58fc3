/**
 * A live list with "load more": the first page is one live subscription whose `limit` grows
 * by a page at a time up to the API's maximum (200), so every row shown stays live; past that,
 * each further page is a live subscription of its own from the previous page's cursor.
 */
import { useEffect, useState } from "react";

import type { Page } from "@/lib/api";
import { type Args, live, type LiveError } from "@/lib/live";

const MAX_LIMIT = 200;

interface PageSpec {
  limit: number;
  cursor?: string;
}

export interface LiveList<T> {
  /** undefined until the first page arrives. */
  rows: T[] | undefined;
  error: LiveError | null;
  hasMore: boolean;
  loadingMore: boolean;
  loadMore: () => void;
}

export function useLiveList<T extends { id: string }>(query: string, args: Args, pageSize = 50): LiveList<T> {
  const argsKey = JSON.stringify(args);
  const [state, setState] = useState({ argsKey, specs: [{ limit: pageSize }] as PageSpec[] });
  const [pages, setPages] = useState<(Page<T> | undefined)[]>([]);
  const [error, setError] = useState<LiveError | null>(null);

  // New arguments start again from one page (state adjusted while rendering, not in an effect,
  // so no frame shows the old arguments' rows).
  let specs = state.specs;
  if (state.argsKey !== argsKey) {
    specs = [{ limit: pageSize }];
    setState({ argsKey, specs });
    setPages([]);
    setError(null);
  }

  const specsKey = JSON.stringify(specs);
  useEffect(() => {
    const base = JSON.parse(argsKey) as Args;
    const wanted = JSON.parse(specsKey) as PageSpec[];
    // Pages are kept by position, so a page being re-subscribed shows its last rows meanwhile.
    const stops = wanted.map((spec, index) =>
      live.subscribe(
        query,
        { ...base, ...spec },
        (data) =>
          setPages((all) => {
            const next = all.slice(0, wanted.length);
            next[index] = data as Page<T>;
            return next;
          }),
        setError,
      ),
    );
    return () => stops.forEach((stop) => stop());
  }, [query, argsKey, specsKey]);

  const first = pages[0];
  const loaded = pages.slice(0, specs.length);
  const complete = loaded.length === specs.length && loaded.every(Boolean);
  const last = complete ? loaded[loaded.length - 1] : undefined;
  let rows: T[] | undefined;
  if (first) {
    const seen = new Set<string>();
    rows = [];
    for (const page of loaded) {
      for (const row of page?.data ?? []) {
        // Keyset pages can overlap for a moment while rows move between them.
        if (!seen.has(row.id)) {
          seen.add(row.id);
          rows.push(row);
        }
      }
    }
  }

  const loadMore = () => {
    if (!last?.next_cursor) return;
    const head = specs[0] ?? { limit: pageSize };
    const nextSpecs =
      specs.length === 1 && head.limit < MAX_LIMIT
        ? [{ limit: Math.min(MAX_LIMIT, head.limit + pageSize) }]
        : [...specs, { limit: MAX_LIMIT, cursor: last.next_cursor }];
    setState({ argsKey, specs: nextSpecs });
  };

  return {
    rows,
    error,
    hasMore: Boolean(last?.next_cursor),
    loadingMore: Boolean(first) && !complete,
    loadMore,
  };
}
