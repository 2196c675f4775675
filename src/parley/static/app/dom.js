// @ts-check
// Small DOM helpers: elements are built with text nodes, never from strings of HTML,
// except a message's html, which the server has already sanitized.

/**
 * An element with attributes (`class`, `dataset`, `on<event>` listeners, booleans) and
 * children (nodes, or anything else as text; null, undefined and false are skipped).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [attrs]
 * @param {...any} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/**
 * The page's element with this id, of this kind: the shell (templates/app.html) has every
 * one the scripts ask for, so a missing or different one is a fault to report, not a case
 * to handle.
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @param {new () => T} [kind]
 * @returns {T}
 */
export function $(id, kind) {
  const el = document.getElementById(id);
  if (!el || (kind && !(el instanceof kind))) {
    throw new Error(`The page has no ${kind ? kind.name : "element"} #${id}.`);
  }
  return /** @type {T} */ (el);
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "long",
  month: "long",
  day: "numeric",
});
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

/** @param {string} iso */
export const formatTime = (iso) => timeFormat.format(new Date(iso));
/** @param {string} iso */
export const formatDay = (iso) => dateFormat.format(new Date(iso));
/** @param {string} iso */
export const formatFull = (iso) => fullFormat.format(new Date(iso));

/** @typedef {import("./shapes.js").User} User */
/** @typedef {import("./shapes.js").RoomSummary} RoomSummary */

/** @param {User | null | undefined} user */
export function displayName(user) {
  return user?.display_name || user?.username || "someone";
}

// A stable hue per user, so a face is recognisable at a glance; their picture over it
// when they have one (the letter stays beneath, for a picture that fails to load).
// data-user-id lets a live profile change find every avatar of that user (people.js).
/**
 * @param {User | null | undefined} user
 * @param {string} [size]
 */
export function avatar(user, size = "") {
  const name = displayName(user);
  const hue = ((user?.id ?? 0) * 47) % 360;
  const el = h(
    "span",
    { class: `avatar ${size}`, "aria-hidden": "true", dataset: { userId: String(user?.id ?? "") } },
    name.charAt(0).toUpperCase(),
  );
  el.style.setProperty("--hue", String(hue));
  if (user?.avatar_url) {
    const img = h("img", { src: user.avatar_url, alt: "", decoding: "async" });
    img.addEventListener("error", () => img.remove());
    el.append(img);
  }
  return el;
}

/** @param {RoomSummary} room */
export function roomLabel(room) {
  if (room.kind === "direct") return displayName(room.peer);
  return room.name || "room";
}

// Client ids must be unique per author; crypto.randomUUID needs a secure context, which a
// LAN address over plain http is not, so build one from getRandomValues.
export function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const random = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `web-${Date.now().toString(36)}-${random}`;
}
