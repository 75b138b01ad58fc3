/**
 * better-auth's error codes in words a person acts on. The server's own message is kept for
 * any code not listed here, so nothing is hidden, only made plainer.
 */
export interface AuthFailure {
  code?: string | undefined;
  message?: string | undefined;
  status?: number;
}

const WORDS: Record<string, string> = {
  INVALID_EMAIL_OR_PASSWORD: "The email or the password is wrong. Check both and try again.",
  INVALID_EMAIL: "That does not look like an email address.",
  PASSWORD_TOO_SHORT: "The password is too short: use at least 8 characters.",
  PASSWORD_TOO_LONG: "The password is too long: use at most 128 characters.",
  USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL: "An account with this email already exists. Sign in instead, or use another email.",
  USER_ALREADY_EXISTS: "An account with this email already exists. Sign in instead, or use another email.",
  EMAIL_NOT_VERIFIED: "Your email is not verified yet. We have sent you a new link: open it, then sign in.",
  BANNED_USER: "This account is suspended. Contact the administrator.",
  INVALID_TOKEN: "This link is invalid or has already been used. Ask for a new one.",
  TOKEN_EXPIRED: "This link has expired. Ask for a new one.",
  INVALID_PASSWORD: "The password is wrong.",
  EMAIL_IS_THE_SAME: "That is already your email address.",
  EMAIL_ALREADY_VERIFIED: "Your email is already verified.",
  LAST_ADMIN: "You are the last administrator: make someone else an administrator first.",
};

export function authErrorMessage(failure: AuthFailure | null | undefined, fallback: string): string {
  if (!failure) return fallback;
  if (failure.status === 429) return "Too many attempts. Wait a minute and try again.";
  // A proxy's 502 or a dropped connection carries no code: say what happened, not just "could not".
  if (failure.status !== undefined && (failure.status === 0 || failure.status >= 500) && !failure.code) {
    return "The server could not be reached or had a problem. Try again in a moment.";
  }
  const words = failure.code ? WORDS[failure.code] : undefined;
  return words ?? failure.message ?? fallback;
}

/** The app's own page at `path`, absolute (mailed links must name an origin we trust). */
export const appUrl = (path: string): string => `${window.location.origin}${path}`;
