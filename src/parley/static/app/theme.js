// @ts-check
// The colour theme: the system's by default, or the one the person chose (kept in this
// browser). The resolved theme is always on <html data-theme="light|dark">, which the
// style sheet reads, so the page follows a system change while it is open.

const KEY = "parley.theme";
/** @typedef {"system" | "light" | "dark"} ThemeChoice */
/** @type {ThemeChoice[]} */
export const THEME_CHOICES = ["system", "light", "dark"];

const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

/** @returns {ThemeChoice} */
export function themeChoice() {
  const stored = localStorage.getItem(KEY);
  return stored === "light" || stored === "dark" ? stored : "system";
}

/** @param {ThemeChoice} choice */
export function chooseTheme(choice) {
  if (choice === "system") localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, choice);
  applyTheme();
}

export function applyTheme() {
  const choice = themeChoice();
  const theme = choice === "system" ? (systemDark.matches ? "dark" : "light") : choice;
  document.documentElement.dataset.theme = theme;
}

systemDark.addEventListener("change", applyTheme);
// Another tab of the same browser chose a theme.
window.addEventListener("storage", (event) => {
  if (event.key === KEY) applyTheme();
});
applyTheme();
