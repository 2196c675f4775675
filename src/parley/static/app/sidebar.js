// @ts-check
// The sidebar: rooms and direct messages with unread badges and presence dots.

import { $, displayName, h, roomLabel } from "./dom.js";
import { showUnread } from "./page_icon.js";

/** @typedef {import("./chat.js").Chat} Chat */
/** @typedef {import("./chat.js").RoomState} RoomState */

/**
 * @param {Chat} chat
 * @param {number | null} activeRoomId
 */
export function renderSidebar(chat, activeRoomId) {
  const rooms = [...chat.rooms.values()];
  const channels = rooms
    .filter((r) => r.summary.kind !== "direct")
    .sort((a, b) => roomLabel(a.summary).localeCompare(roomLabel(b.summary)));
  const directs = rooms
    .filter((r) => r.summary.kind === "direct")
    .sort((a, b) => (b.summary.last_message_id || 0) - (a.summary.last_message_id || 0));
  $("room-list").replaceChildren(
    ...(channels.length
      ? channels.map((room) => roomItem(chat, room, activeRoomId))
      : [h("li", { class: "sidebar-empty" }, "No rooms yet")]),
  );
  $("dm-list").replaceChildren(
    ...(directs.length
      ? directs.map((room) => roomItem(chat, room, activeRoomId))
      : [h("li", { class: "sidebar-empty" }, "No conversations yet")]),
  );
  // The open room's messages count while the page is out of sight, as its badge does.
  const seen = (/** @type {RoomState} */ room) => room.id === activeRoomId && document.visibilityState === "visible";
  showUnread(
    rooms.reduce((sum, room) => sum + (seen(room) ? 0 : room.summary.unread_count), 0),
    rooms.reduce((sum, room) => sum + (seen(room) ? 0 : room.summary.mention_count || 0), 0),
  );
}

/**
 * @param {Chat} chat
 * @param {RoomState} room
 * @param {number | null} activeRoomId
 */
function roomItem(chat, room, activeRoomId) {
  const summary = room.summary;
  const active = room.id === activeRoomId;
  const unread = active && document.visibilityState === "visible" ? 0 : summary.unread_count;
  const mentions = unread ? summary.mention_count || 0 : 0;
  const label = roomLabel(summary);
  let marker;
  if (summary.kind === "direct") {
    const online = summary.peer ? chat.online.has(summary.peer.id) : false;
    marker = h("span", {
      class: `presence ${online ? "online" : "offline"}`,
      role: "img",
      "aria-label": online ? "online" : "offline",
    });
  } else {
    marker = h("span", { class: "room-hash", "aria-hidden": "true" }, summary.kind === "private" ? "🔒" : "#");
  }
  const live = Boolean(summary.live);
  const description = [
    label,
    live ? "live" : null,
    unread ? `${unread} unread` : null,
    mentions ? `${mentions} ${mentions === 1 ? "mention" : "mentions"}` : null,
  ]
    .filter(Boolean)
    .join(", ");
  return h(
    "li",
    {},
    h(
      "a",
      {
        href: `#/room/${room.id}`,
        class: `room-link${active ? " active" : ""}${unread ? " has-unread" : ""}`,
        "aria-current": active ? "page" : undefined,
        "aria-label": description,
        dataset: { roomId: String(room.id) },
        title: summary.kind === "direct" ? `@${summary.peer?.username}` : summary.topic || label,
      },
      marker,
      h("span", { class: "room-name" }, summary.kind === "direct" ? displayName(summary.peer) : label),
      live ? h("span", { class: "live-tag small", "aria-hidden": "true" }, "LIVE") : null,
      mentions ? h("span", { class: "badge mention-badge", "aria-hidden": "true" }, "@") : null,
      unread ? h("span", { class: "badge", "aria-hidden": "true" }, unread > 99 ? "99+" : String(unread)) : null,
    ),
  );
}
