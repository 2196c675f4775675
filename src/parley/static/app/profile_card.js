// @ts-check
// A person's card, opened from the member list or a message's author: their picture,
// names and presence, and "Message" to open (or start) the direct room with them. One's
// own card offers the settings instead.

import { api } from "./api.js";
import { openDialog } from "./dialogs.js";
import { fieldMessage } from "./directory.js";
import { $, avatar, displayName } from "./dom.js";

/** @typedef {import("./shapes.js").User} User */
/** @typedef {import("./chat.js").Chat} Chat */

/** @type {{chat: Chat, navigate: (roomId: number) => void, settings: (opener: HTMLElement | null) => void} | null} */
let bound = null;
/** @type {User | null} */
let shown = null;

/**
 * @param {Chat} chat
 * @param {(roomId: number) => void} navigate opens a room
 * @param {(opener: HTMLElement | null) => void} settings opens one's own settings
 */
export function bindProfileCard(chat, navigate, settings) {
  bound = { chat, navigate, settings };
  $("profile-card-message").addEventListener("click", () => messageShown());
  $("profile-card-settings").addEventListener("click", () => {
    $("profile-card", HTMLDialogElement).close();
    settings($("settings-button"));
  });
  chat.addEventListener("presence", () => shown && render(shown));
  chat.addEventListener("user", ({ detail }) => {
    if (shown && detail.user.id === shown.id) render((shown = { ...shown, ...detail.user }));
  });
}

/**
 * @param {User} user
 * @param {HTMLElement | null} opener
 */
export function openProfileCard(user, opener) {
  if (!bound) return;
  shown = user;
  render(user);
  const own = user.id === bound.chat.me.id;
  openDialog($("profile-card", HTMLDialogElement), opener, own ? "profile-card-settings" : "profile-card-message");
}

/** @param {User} user */
function render(user) {
  if (!bound) return;
  const own = user.id === bound.chat.me.id;
  const online = own || bound.chat.online.has(user.id);
  $("profile-card-avatar").replaceWith(Object.assign(avatar(user, "large"), { id: "profile-card-avatar" }));
  $("profile-card-name").textContent = displayName(user);
  $("profile-card-username").textContent = `@${user.username}`;
  $("profile-card-presence").className = `presence ${online ? "online" : "offline"}`;
  $("profile-card-status").textContent = online ? "Online" : "Offline";
  $("profile-card-message").hidden = own;
  $("profile-card-settings").hidden = !own;
  $("profile-card-message").setAttribute("aria-label", `Message ${displayName(user)}`);
}

async function messageShown() {
  if (!bound || !shown) return;
  const button = $("profile-card-message", HTMLButtonElement);
  button.disabled = true;
  $("profile-card-error").textContent = "";
  try {
    const room = await api.openDirect(shown.id);
    await bound.chat.refreshRooms();
    $("profile-card", HTMLDialogElement).close();
    bound.navigate(room.id);
  } catch (err) {
    $("profile-card-error").textContent = fieldMessage(err);
  } finally {
    button.disabled = false;
  }
}
