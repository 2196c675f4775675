// @ts-check
// Messages listed outside their room (pins, mentions): each a link that opens its room at
// that message (#/room/<id>/message/<id>), showing who wrote it, when, and what it says.

import { displayName, formatFull, h, roomLabel } from "./dom.js";

/** @typedef {import("./shapes.js").Message} Message */

const SNIPPET_CHARS = 200;

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
          href: room ? `#/room/${message.room_id}/message/${message.id}` : "#/directory",
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
