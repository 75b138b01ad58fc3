/** Light, dark or the system's choice, kept in localStorage; `.dark` on <html> switches the
 * tokens in styles.css. Applied before React renders (main.tsx), not by an inline script,
 * which the app's CSP forbids. */
export type Theme = "light" | "dark" | "system";

const KEY = "theme";

export function storedTheme(): Theme {
  const value = localStorage.getItem(KEY);
  return value === "light" || value === "dark" ? value : "system";
}

export function applyTheme(theme: Theme = storedTheme()): void {
  const dark =
    theme === "dark" || (theme === "system" && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.classList.toggle("dark", dark);
}

export function setTheme(theme: Theme): void {
  if (theme === "system") localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, theme);
  applyTheme(theme);
}
