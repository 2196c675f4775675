// @ts-check
// People as the page shows them: when someone's name or picture changes (user:update),
// every avatar and name of theirs already on the page is swapped in place, so nothing
// is redrawn and no scroll position moves.

import { avatar, displayName } from "./dom.js";

/** @typedef {import("./shapes.js").User} User */

const SIZES = ["small", "large"];

/** @param {import("./chat.js").Chat} chat */
export function followPeople(chat) {
  chat.addEventListener("user", ({ detail }) => refreshUser(detail.user));
}

/** @param {User} user */
export function refreshUser(user) {
  for (const el of document.querySelectorAll(`.avatar[data-user-id="${user.id}"]`)) {
    const fresh = avatar(user, SIZES.find((size) => el.classList.contains(size)) ?? "");
    if (el.id) fresh.id = el.id;
    el.replaceWith(fresh);
  }
  for (const el of document.querySelectorAll(`[data-user-name="${user.id}"]`)) {
    el.textContent = displayName(user);
  }
}
