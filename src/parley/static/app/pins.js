// @ts-check
// The room's pinned messages (GET /rooms/<id>/pins), newest pin first, in a dialog opened
// from the room's header; each opens the room at that message. It follows pins and
// unpins while it is open.

import { api } from "./api.js";
import { openDialog } from "./dialogs.js";
import { $, roomLabel } from "./dom.js";
import { messageLinks } from "./message_links.js";

/** @typedef {import("./chat.js").Chat} Chat */

export class Pins {
  /**
   * @param {Chat} chat
   * @param {() => number | null} activeRoom
   */
  constructor(chat, activeRoom) {
    this.chat = chat;
    this.activeRoom = activeRoom;
    this.dialog = $("pins-dialog", HTMLDialogElement);
    /** @type {number | null} */
    this.roomId = null;
    this.asked = 0;
    const button = $("pins-button");
    button.addEventListener("click", () => {
      const roomId = this.activeRoom();
      if (roomId !== null) this.open(roomId, button);
    });
    $("pins-list").addEventListener("click", (event) => {
      if (event.target instanceof Element && event.target.closest("a")) this.dialog.close();
    });
    chat.addEventListener("pins", ({ detail }) => {
      if (this.dialog.open && detail.roomId === this.roomId) this.load();
    });
    chat.addEventListener("left", ({ detail }) => {
      if (detail.roomId === this.roomId && this.dialog.open) this.dialog.close();
    });
  }

  /**
   * @param {number} roomId
   * @param {HTMLElement} opener
   */
  open(roomId, opener) {
    const room = this.chat.rooms.get(roomId);
    if (!room) return;
    this.roomId = roomId;
    const label = roomLabel(room.summary);
    $("pins-title").textContent = room.summary.kind === "direct" ? `Pinned with ${label}` : `Pinned in #${label}`;
    $("pins-list").replaceChildren();
    openDialog(this.dialog, opener);
    this.load();
  }

  async load() {
    const roomId = this.roomId;
    if (roomId === null) return;
    const asked = ++this.asked;
    const status = $("pins-status");
    if (!$("pins-list").childElementCount) status.textContent = "Loading…";
    let answer;
    try {
      answer = await api.pins(roomId);
    } catch (err) {
      if (asked === this.asked) status.textContent = `Could not load the pins: ${err.message}`;
      return;
    }
    if (asked !== this.asked) return;
    /** @type {import("./shapes.js").Message[]} */
    const messages = answer.messages;
    status.textContent = messages.length
      ? `${messages.length} pinned ${messages.length === 1 ? "message" : "messages"}.`
      : "Nothing is pinned here yet. Moderators pin a message from its actions.";
    $("pins-list").replaceChildren(...messageLinks(messages, this.chat));
  }
}
