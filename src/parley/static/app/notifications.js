// @ts-check
// Desktop notifications and each room's notification level. Unless it is in the room
// open in sight (the page visible), a new message from someone else shows a notification
// when the room asks for it:
// a direct room or a room set to "all" for every message, a room set to "mentions" (the
// default) when it names me or calls @room or @here, a room set to "none" never. The
// browser's permission is asked for only from a click on "Turn on desktop
// notifications", never by itself. A reply kept to its thread notifies by the same rule,
// unless its thread is open in sight. The level of a room is set in its notifications
// dialog (PATCH /rooms/<id>/notifications).

import { threadOnly } from "./chat.js";
import { openDialog } from "./dialogs.js";
import { $, displayName, roomLabel } from "./dom.js";
import { fieldMessage } from "./errors.js";
import { messageAddress } from "./message_links.js";

/** @typedef {import("./chat.js").Chat} Chat */
/** @typedef {import("./shapes.js").Message} Message */
/** @typedef {import("./shapes.js").RoomSummary} RoomSummary */

const BODY_CHARS = 140;
const LEVEL_TEXT = { all: "All messages", mentions: "Mentions only", none: "Nothing" };

/** @param {RoomSummary} summary */
export const levelOf = (summary) => summary.notification_level ?? (summary.kind === "direct" ? "all" : "mentions");

const supported = () => "Notification" in window;

export class Notifier {
  /**
   * @param {Chat} chat
   * @param {() => number | null} activeRoom
   * @param {() => number | null} [openThread] the root of the thread whose panel is open
   */
  constructor(chat, activeRoom, openThread = () => null) {
    this.chat = chat;
    this.activeRoom = activeRoom;
    this.openThread = openThread;
    this.dialog = $("notify-dialog", HTMLDialogElement);
    /** @type {number | null} */
    this.roomId = null;
    chat.addEventListener("message", ({ detail }) => {
      if (detail.isNew && detail.live) this.maybeNotify(detail.roomId, detail.message);
    });
    // A reply kept to its thread is never a timeline "message": it notifies from here.
    chat.addEventListener("reply", ({ detail }) => {
      if (detail.live && threadOnly(detail.message)) this.maybeNotify(detail.roomId, detail.message);
    });
    const button = $("notify-button");
    button.addEventListener("click", () => {
      const roomId = this.activeRoom();
      if (roomId !== null) this.open(roomId, button);
    });
    $("notify-levels").addEventListener("change", (event) => {
      if (event.target instanceof HTMLInputElement) this.setLevel(/** @type {"all" | "mentions" | "none"} */ (event.target.value));
    });
    $("notify-permission").addEventListener("click", () => this.askPermission());
    for (const type of ["room", "rooms"]) chat.addEventListener(type, () => this.renderButton());
  }

  // The header's bell says the open room's level.
  renderButton() {
    const roomId = this.activeRoom();
    const summary = roomId === null ? undefined : this.chat.rooms.get(roomId)?.summary;
    if (!summary) return;
    const level = levelOf(summary);
    const button = $("notify-button");
    button.setAttribute("aria-label", `Notifications: ${LEVEL_TEXT[level].toLowerCase()}`);
    button.title = `Notifications: ${LEVEL_TEXT[level].toLowerCase()}`;
    button.dataset.level = level;
  }

  /**
   * @param {number} roomId
   * @param {Message} message
   */
  maybeNotify(roomId, message) {
    if (!supported() || Notification.permission !== "granted") return;
    const inThread = threadOnly(message);
    const inSight =
      document.visibilityState !== "hidden" &&
      this.activeRoom() === roomId &&
      (!inThread || this.openThread() === message.thread_id);
    if (inSight || message.deleted || message.author.id === this.chat.me.id) return;
    const room = this.chat.rooms.get(roomId);
    if (!room) return;
    const level = levelOf(room.summary);
    const mentioned = Boolean(message.mentions_room) || (message.mentions ?? []).includes(this.chat.me.id);
    if (level === "none" || (level === "mentions" && !mentioned)) return;
    const where = room.summary.kind === "direct" ? "" : ` in #${roomLabel(room.summary)}`;
    const text = message.body.replace(/\s+/g, " ").trim();
    const notification = new Notification(`${displayName(message.author)}${where}`, {
      body: text.length > BODY_CHARS ? `${text.slice(0, BODY_CHARS)}…` : text,
      tag: `parley-message-${message.id}`,
      icon: $("page-icon", HTMLLinkElement).href,
    });
    notification.addEventListener("click", () => {
      window.focus();
      location.hash = messageAddress(message);
      notification.close();
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
    const label = room.summary.kind === "direct" ? roomLabel(room.summary) : `#${roomLabel(room.summary)}`;
    $("notify-title").textContent = `Notifications for ${label}`;
    const level = levelOf(room.summary);
    for (const input of $("notify-levels").querySelectorAll("input")) input.checked = input.value === level;
    $("notify-error").textContent = "";
    $("notify-saved").textContent = "";
    this.renderPermission();
    openDialog(this.dialog, opener);
    const checked = $("notify-levels").querySelector("input:checked");
    if (checked instanceof HTMLElement) checked.focus();
  }

  /** @param {"all" | "mentions" | "none"} level */
  async setLevel(level) {
    const roomId = this.roomId;
    if (roomId === null) return;
    $("notify-error").textContent = "";
    $("notify-saved").textContent = "";
    try {
      await this.chat.setNotificationLevel(roomId, level);
      $("notify-saved").textContent = `Saved: ${LEVEL_TEXT[level].toLowerCase()}.`;
    } catch (err) {
      $("notify-error").textContent = fieldMessage(err);
    }
  }

  renderPermission() {
    const status = $("notify-permission-status");
    const button = $("notify-permission", HTMLButtonElement);
    if (!supported()) {
      status.textContent = "This browser cannot show desktop notifications.";
      button.hidden = true;
      return;
    }
    const permission = Notification.permission;
    button.hidden = permission !== "default";
    status.textContent =
      permission === "granted"
        ? "Desktop notifications are on for this browser while Parley is in the background."
        : permission === "denied"
          ? "This browser blocks Parley's notifications: allow them in the site's settings."
          : "Desktop notifications are off for this browser.";
  }

  async askPermission() {
    if (!supported()) return;
    try {
      await Notification.requestPermission();
    } finally {
      this.renderPermission();
      if (this.dialog.open) $("notify-levels").querySelector("input")?.focus();
    }
  }
}
