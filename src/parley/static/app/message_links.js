// @ts-check
// Messages listed outside their room (pins, mentions): each a link that opens its room at
// that message (#/room/<id>/message/<id>), or a reply kept to its thread in that thread's
// panel (#/room/<id>/thread/<root>/reply/<id>), showing who wrote it, when, and what it says.

import { threadOnly } from "./chat.js";
import { displayName, formatFull, h, roomLabel } from "./dom.js";

/** @typedef {import("./shapes.js").Message} Message */

const SNIPPET_CHARS = 200;

/**
 * Where a message opens: its room at that message, or, for a reply kept to its thread
 * (never in the room's timeline), its thread's panel at that reply.
 * @param {Message} message
 */
export function messageAddress(message) {
  if (threadOnly(message)) return `#/room/${message.room_id}/thread/${message.thread_id}/reply/${message.id}`;
  return `#/room/${message.room_id}/message/${message.id}`;
}

/**
 * @param {Message[]} messages
 * @param {import("./chat.js").Chat} chat
 * @param {{withRoom?: boolean}} [options]
 */
export function messageLinks(messages, chat, { withRoom = false } = {}) {
  return messages.map((message) => {
    const room = chat.rooms.get(message.room_id);
    const where = room ? (room.summary.kind === "direct" ? roomLabel(room.summary) : `#${roomLabel(room.summary)}`) : "a room you left";
    const text = message.body.replace(/\s+/g, " ").trim();
    return h(
      "li",
      {},
      h(
        "a",
        {
          class: "search-hit",
          href: room ? messageAddress(message) : "#/directory",
          dataset: { messageId: String(message.id) },
        },
        h(
          "span",
          { class: "search-meta" },
          h("span", { class: "author" }, displayName(message.author)),
          withRoom ? ` in ${where}` : null,
          " ",
          h("time", { datetime: message.created_at }, formatFull(message.created_at)),
        ),
        h("span", { class: "search-snippet" }, text.length > SNIPPET_CHARS ? `${text.slice(0, SNIPPET_CHARS)}…` : text),
      ),
    );
  });
}
