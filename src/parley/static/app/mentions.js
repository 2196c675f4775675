// @ts-check
// The messages that mentioned me (GET /mentions), newest first, in a dialog opened from
// the sidebar, whose button counts the unread ones; each opens its room at that message.
// Older ones page in with "Show older".

import { api } from "./api.js";
import { openDialog } from "./dialogs.js";
import { $ } from "./dom.js";
import { messageLinks } from "./message_links.js";

/** @typedef {import("./chat.js").Chat} Chat */
/** @typedef {import("./shapes.js").Message} Message */

export class Mentions {
  /** @param {Chat} chat */
  constructor(chat) {
    this.chat = chat;
    this.dialog = $("mentions-dialog", HTMLDialogElement);
    /** @type {Message[]} */
    this.messages = [];
    this.hasMore = false;
    this.asked = 0;
    const button = $("mentions-button");
    button.addEventListener("click", () => this.open(button));
    $("mentions-list").addEventListener("click", (event) => {
      if (event.target instanceof Element && event.target.closest("a")) this.dialog.close();
    });
    $("mentions-more").addEventListener("click", () => this.load(true));
    chat.addEventListener("rooms", () => this.renderCount());
    chat.addEventListener("mention", () => {
      if (this.dialog.open) this.load(false);
    });
  }

  renderCount() {
    let count = 0;
    for (const room of this.chat.rooms.values()) count += room.summary.mention_count || 0;
    const badge = $("mentions-count");
    badge.hidden = !count;
    badge.textContent = count > 99 ? "99+" : String(count);
    $("mentions-button").setAttribute("aria-label", count ? `Mentions, ${count} unread` : "Mentions");
  }

  /** @param {HTMLElement} opener */
  open(opener) {
    this.messages = [];
    $("mentions-list").replaceChildren();
    openDialog(this.dialog, opener);
    this.load(false);
  }

  /** @param {boolean} older */
  async load(older) {
    const asked = ++this.asked;
    const status = $("mentions-status");
    if (!older) status.textContent = this.messages.length ? status.textContent : "Loading…";
    const before = older ? this.messages[this.messages.length - 1]?.id : undefined;
    let answer;
    try {
      answer = await api.mentions(before);
    } catch (err) {
      if (asked === this.asked) status.textContent = `Could not load your mentions: ${err.message}`;
      return;
    }
    if (asked !== this.asked) return;
    this.messages = older ? [...this.messages, ...answer.messages] : answer.messages;
    this.hasMore = answer.has_more;
    status.textContent = this.messages.length
      ? `${this.messages.length}${this.hasMore ? "+" : ""} ${this.messages.length === 1 ? "mention" : "mentions"}.`
      : "Nobody has mentioned you yet.";
    $("mentions-list").replaceChildren(...messageLinks(this.messages, this.chat, { withRoom: true }));
    $("mentions-more").hidden = !this.hasMore;
  }
}

