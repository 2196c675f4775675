// @ts-check
// The skip link goes to what the screen has: the login or register form, the message box
// in a room, the filter in the directory. It moves focus itself: following its href
// would change the hash, which is the page's route.

/** @returns {[HTMLElement, string] | null} the target and the link's words */
function target() {
  /** @param {string} id */
  const shown = (id) => {
    const el = document.getElementById(id);
    return el && el.getClientRects().length ? el : null;
  };
  const login = shown("login-username");
  if (login) return [login, "Skip to the login form"];
  const register = shown("register-username");
  if (register) return [register, "Skip to the registration form"];
  const composer = shown("composer-input");
  if (composer) return [composer, "Skip to message box"];
  const filter = shown("directory-filter");
  if (filter) return [filter, "Skip to the room filter"];
  const main = shown("main");
  return main ? [main, "Skip to the main content"] : null;
}

export function bindSkipLink() {
  const link = document.getElementById("skip-link");
  if (!link) return;
  // Its words are set when it shows, which is when it takes focus.
  link.addEventListener("focus", () => {
    const found = target();
    if (found) link.textContent = found[1];
  });
  link.addEventListener("click", (event) => {
    event.preventDefault();
    target()?.[0].focus();
  });
}
