/**
 * The app's one way to call our REST API: same origin, the session cookie, JSON in and out.
 * Errors come back in the API's documented shape, `{"error": {code, message, details}}`
 * (better-auth's routes answer `{code, message}`); both become an `ApiError`.
 */

export interface ErrorDetail {
  loc?: (string | number)[];
  msg?: string;
  message?: string;
  field?: string;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** A keyset page, as every list endpoint answers. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
}

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** The `ApiError` a failed response stands for (its `{"error": …}` body, Retry-After). */
export async function toError(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = response.statusText || "Request failed";
  let details: ErrorDetail[] = [];
  try {
    const body: unknown = await response.json();
    if (body && typeof body === "object") {
      const record = body as Record<string, unknown>;
      const inner = (record.error && typeof record.error === "object" ? record.error : record) as Record<
        string,
        unknown
      >;
      if (typeof inner.code === "string") code = inner.code;
      if (typeof inner.message === "string") message = inner.message;
      if (Array.isArray(inner.details)) details = inner.details as ErrorDetail[];
    }
  } catch {
    // Not JSON (a proxy's page): keep the status text.
  }
  const retry = Number(response.headers.get("retry-after"));
  return new ApiError(response.status, code, message, details, Number.isFinite(retry) && retry > 0 ? retry : null);
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { method = "GET", body, query, signal } = options;
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(withQuery(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "The server could not be reached. Check your connection.");
  }
  if (!response.ok) throw await toError(response);
  if (response.status === 204 || response.headers.get("content-length") === "0") return undefined as T;
  return (await response.json()) as T;
}

/** A person-readable message for any error an `api()` call or a client library threw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const first = error.details[0];
    const detail = first ? (first.msg ?? first.message) : undefined;
    return detail && error.code === "validation_error" ? `${error.message}: ${detail}` : error.message;
  }
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
