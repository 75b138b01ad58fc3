/**
 * Money as the API sends it: decimal strings with at most 2 decimals. Sums are made in whole
 * cents with BigInt, so adding thousands of amounts never picks up a float's rounding error.
 */

const DECIMAL = /^(-?)(\d+)(?:\.(\d{1,2}))?$/;

/** Cents of a decimal string ("12.5" → 1250n); null when it is not one. */
export function toCents(amount: string): bigint | null {
  const match = DECIMAL.exec(amount.trim());
  if (!match) return null;
  const [, sign, whole = "0", fraction = ""] = match;
  const cents = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, "0") || "0");
  return sign ? -cents : cents;
}

/** "1250n" → "12.50", grouped for reading ("1,234.50" in English). */
export function formatCents(cents: bigint): string {
  const negative = cents < 0n;
  const absolute = negative ? -cents : cents;
  const whole = (absolute / 100n).toLocaleString();
  const fraction = String(absolute % 100n).padStart(2, "0");
  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

export interface CategoryTotal {
  category: string;
  cents: bigint;
}

/** Totals by category, grouped ignoring case as the API's dashboard does, largest first. */
export function totalsByCategory(expenses: { amount: string; category: string }[]): {
  categories: CategoryTotal[];
  total: bigint;
} {
  const byCategory = new Map<string, bigint>();
  let total = 0n;
  for (const expense of expenses) {
    const cents = toCents(expense.amount) ?? 0n;
    const category = expense.category.trim().toLowerCase();
    byCategory.set(category, (byCategory.get(category) ?? 0n) + cents);
    total += cents;
  }
  const categories = [...byCategory].map(([category, cents]) => ({ category, cents }));
  categories.sort((a, b) => (a.cents === b.cents ? a.category.localeCompare(b.category) : a.cents > b.cents ? -1 : 1));
  return { categories, total };
}
