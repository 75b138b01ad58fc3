import { useState } from "react";

import { Select } from "@/components/ui/input";
import { setTheme, storedTheme, type Theme } from "@/lib/theme";

export function ThemeToggle() {
  const [theme, setChoice] = useState<Theme>(storedTheme());
  return (
    <Select
      aria-label="Colour theme"
      className="w-auto"
      value={theme}
      onChange={(event) => {
        const value = event.target.value as Theme;
        setChoice(value);
        setTheme(value);
      }}
    >
      <option value="system">System</option>
      <option value="light">Light</option>
      <option value="dark">Dark</option>
    </Select>
  );
}
