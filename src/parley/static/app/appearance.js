// @ts-check
// The Appearance section of the settings dialog: the theme radio group, kept in step with
// the choice stored in this browser (another tab may change it).

import { THEME_CHOICES, chooseTheme, themeChoice } from "./theme.js";

/** @returns {HTMLInputElement[]} */
const radios = () => [...document.querySelectorAll('input[type="radio"][name="theme"]')].filter(
  (el) => el instanceof HTMLInputElement,
);

function showChoice() {
  const choice = themeChoice();
  for (const radio of radios()) radio.checked = radio.value === choice;
}

export function bindAppearance() {
  for (const radio of radios()) {
    radio.addEventListener("change", () => {
      const choice = THEME_CHOICES.find((c) => c === radio.value);
      if (radio.checked && choice) chooseTheme(choice);
    });
  }
  window.addEventListener("storage", showChoice);
  showChoice();
}
