// @ts-check
// The room's pinned messages (GET /rooms/<id>/pins), newest pin first, in a dialog opened
// from the room's header; each opens the room at that message. It follows pins and
// unpins while it is open. Those allowed to pin (room_rights.js) unpin from it too.

import { api } from "./api.js";
import { openDialog } from "./dialogs.js";
import { $, h, roomLabel } from "./dom.js";
import { fieldMessage } from "./errors.js";
import { messageLinks } from "./message_links.js";
import { canPin } from "./room_rights.js";

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
      if (!(event.target instanceof Element)) return;
      const unpin = event.target.closest("button[data-unpin]");
      if (unpin instanceof HTMLButtonElement) this.unpin(unpin);
      else if (event.target.closest("a")) this.dialog.close();
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
    const links = messageLinks(messages, this.chat);
    const room = this.chat.rooms.get(roomId);
    if (room && this.chat.me && canPin(this.chat.me, room.summary)) {
      links.forEach((item, i) => {
        const snippet = item.querySelector(".search-snippet")?.textContent ?? "";
        item.classList.add("with-action");
        item.append(
          h(
            "button",
            { type: "button", class: "ghost small", dataset: { unpin: String(messages[i].id) }, "aria-label": `Unpin: ${snippet}` },
            "Unpin",
          ),
        );
      });
    }
    $("pins-list").replaceChildren(...links);
  }

  /** @param {HTMLButtonElement} button */
  async unpin(button) {
    button.disabled = true;
    try {
      await this.chat.pin(Number(button.dataset.unpin), false);
      $("pins-status").textContent = "Unpinned.";
      // The list is drawn again on the change ("pins"), the button with it: the focus
      // stays in the dialog, on its way out.
      const close = this.dialog.querySelector("[data-close]");
      if (close instanceof HTMLElement) close.focus();
    } catch (err) {
      button.disabled = false;
      $("pins-status").textContent = `Could not unpin: ${fieldMessage(err)}`;
    }
  }
}
