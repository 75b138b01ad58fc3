/** The shapes of `/api/keys` (docs/api/keys.md) and `/api/usage` (docs/api/gateway.md). */

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked: boolean;
  status: "active" | "revoked" | "expired";
}

/** `POST /api/keys`: the key as listed plus its full secret, this once. */
export interface CreatedKey extends ApiKey {
  key: string;
}

export interface UsageTotals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export interface ModelUsage extends UsageTotals {
  model: string;
}

export interface KeyUsage extends UsageTotals {
  /** null: calls made with a signed-in session rather than a key. */
  api_key_id: string | null;
  name: string | null;
  prefix: string | null;
}

export interface UsageReport {
  start: string;
  end: string;
  totals: UsageTotals;
  by_model: ModelUsage[];
  by_key: KeyUsage[];
}
