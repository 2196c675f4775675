// @ts-check
// The open room: its timeline (history paged by scrolling up, live messages, pending
// sends), the composer with per-room drafts, typing, members and read marks.

import { $, avatar, displayName, formatDay, formatFull, formatTime, h, roomLabel } from "./dom.js";
import { confirmDelete } from "./dialogs.js";
import { openProfileCard } from "./profile_card.js";
import { canInvite, canModerate, canPin, myRank } from "./room_rights.js";
import { api } from "./api.js";
import { Autocomplete, peopleOf } from "./autocomplete.js";
import { pickEmoji } from "./emoji.js";
import { openEditHistory } from "./edit_history.js";
import { reactionBar } from "./reactions.js";
import { COUNT } from "./page_icon.js";
import { fieldMessage } from "./errors.js";
import { bindMessageKeys } from "./message_keys.js";
import { COUNT_FROM, MAX_BODY, bodyLength, counterText, tooLongText } from "./message_length.js";

/** @typedef {import("./chat.js").Chat} Chat */
/** @typedef {import("./shapes.js").Message} Message */
/** @typedef {import("./shapes.js").PendingSend} PendingSend */

const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 150;
const DRAFT_KEY = "parley.draft.";

/** @param {import("./shapes.js").Member} member */
const mutedUntilOf = (member) =>
  member.muted_until && new Date(member.muted_until) > new Date() ? member.muted_until : null;

export class RoomView {
  /**
   * @param {Chat} chat
   * @param {(text: string) => void} announce
   */
  constructor(chat, announce) {
    this.chat = chat;
    this.announce = announce;
    /** @type {number | null} */
    this.roomId = null;
    /** @type {number | null} the read mark when the room was opened */
    this.dividerAfter = null;
    this.loadingOlder = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.unmuteTimer = undefined;
    this.loadingNewer = false;
    /** @type {number | null} the search hit the room was opened at */
    this.hitId = null;
    // Counts each opening of a room (and each jump to its newest): a page that arrives
    // for an earlier one is not drawn over this one.
    this.openings = 0;
    // While a room's first page loads, what the timeline shows is not yet that page, so
    // its scrolling loads nothing more.
    this.loadingRoom = false;
    /** the reader is at the newest message, and stays there as the timeline changes size */
    this.pinned = true;
    /** messages from others that arrived while the reader was scrolled up */
    this.unseen = 0;
    /** @type {number | null} the message the "New messages" divider stands before */
    this.dividerBefore = null;
    /** @type {{roomId: number, userIds: number[], message: Message} | null} */
    this.notNotified = null;
    /** @type {Autocomplete | undefined} */
    this.suggestions = undefined;
    /** @type {(rootId: number, opener: HTMLElement) => void} opens a thread's panel */
    this.onOpenThread = () => {};
    this.scroller = $("message-scroller");
    this.list = $("message-list");
    this.input = $("composer-input", HTMLTextAreaElement);
    this.bindComposer();
    this.bindTimeline();
    this.bindChat();
  }

  // --- opening a room -------------------------------------------------------------------

  /**
   * @param {number} roomId
   * @param {number | null} [aroundId] a message to open the room at (a search hit)
   */
  async open(roomId, aroundId = null) {
    this.saveDraft();
    this.roomId = roomId;
    this.hitId = aroundId;
    const opening = ++this.openings;
    const room = this.chat.rooms.get(roomId);
    if (!room) return;
    this.dividerAfter = room.summary.unread_count ? room.summary.last_read_message_id : null;
    this.dividerBefore = null;
    this.showUnseen(0);
    this.renderHeader();
    this.list.replaceChildren();
    $("history-status").textContent = "Loading messages…";
    this.input.value = localStorage.getItem(DRAFT_KEY + roomId) || "";
    this.suggestions?.close();
    this.showNotNotified(null);
    this.renderLength();
    this.autosize();
    this.renderComposerState();
    this.renderTyping();
    // Members give names to typing events and presence to the panel.
    if (!room.members) this.chat.loadMembers(roomId).catch(() => {});
    // A panel belongs to the room it was opened in.
    this.showMembers(false);
    this.loadingRoom = true;
    try {
      if (aroundId) await this.chat.loadAround(roomId, aroundId);
      else if (room.hasNewer) await this.chat.reload(roomId);
      else if (!room.loaded) await this.chat.loadNewest(roomId);
    } catch (err) {
      $("history-status").textContent = `Could not load messages: ${err.message}`;
      return;
    } finally {
      if (this.openings === opening) this.loadingRoom = false;
    }
    if (this.openings !== opening) return;
    this.renderAll();
    if (aroundId) this.showHit(aroundId);
    else {
      this.scrollToStart();
      // A thread opened with the room keeps the focus in its panel.
      if (!document.querySelector("dialog[open]") && $("thread-panel").hidden) this.input.focus({ preventScroll: true });
    }
    this.fillViewport();
    this.maybeRead();
  }

  // The search hit in the middle of the timeline, marked and focused.
  /** @param {number} messageId */
  showHit(messageId) {
    const node = this.list.querySelector(`li.message[data-id="${messageId}"]`);
    if (!(node instanceof HTMLElement)) return;
    node.scrollIntoView({ block: "center" });
    // Held at the hit, not at the newest end: the timeline's size changing must not move
    // it to the bottom, which would page in the newer messages at once.
    this.pinned = this.atBottom();
    node.tabIndex = -1;
    node.focus({ preventScroll: true });
    this.announce("Showing the message you searched for, with the messages around it.");
  }

  async loadNewer() {
    const room = this.room;
    if (!room || !room.hasNewer || this.loadingNewer || this.loadingRoom) return;
    this.loadingNewer = true;
    const opening = this.openings;
    const top = this.scroller.scrollTop;
    try {
      await this.chat.loadNewer(room.id);
    } catch (err) {
      $("history-status").textContent = `Could not load newer messages: ${err.message}`;
      return;
    } finally {
      this.loadingNewer = false;
    }
    if (this.openings !== opening) return;
    this.renderAll();
    this.scroller.scrollTop = top;
  }

  async jumpToLatest() {
    const roomId = this.roomId;
    if (roomId === null) return;
    this.hitId = null;
    const opening = ++this.openings;
    this.loadingRoom = true;
    try {
      await this.chat.reload(roomId);
    } catch (err) {
      $("history-status").textContent = `Could not load messages: ${err.message}`;
      return;
    } finally {
      if (this.openings === opening) this.loadingRoom = false;
    }
    if (this.openings !== opening) return;
    this.scrollToBottom();
    this.input.focus({ preventScroll: true });
  }

  // One button below the messages: "Jump to latest" while the newest messages are not
  // loaded (the room was opened at a search hit), else "N new messages" while the reader
  // is scrolled up as messages arrive.
  renderJump() {
    const button = $("jump-latest");
    const count = this.unseen;
    const arrow = h("span", { "aria-hidden": "true" }, "\u2193");
    if (this.room?.hasNewer) {
      button.hidden = false;
      button.replaceChildren(count ? `Jump to latest (${count} new) ` : "Jump to latest ", arrow);
      return;
    }
    button.hidden = count === 0;
    button.replaceChildren(count === 1 ? "1 new message " : `${count} new messages `, arrow);
  }

  close() {
    this.saveDraft();
    this.roomId = null;
  }

  get room() {
    return this.roomId === null ? undefined : this.chat.rooms.get(this.roomId);
  }

  renderHeader() {
    const room = this.room;
    if (!room) return;
    const label = roomLabel(room.summary);
    const title = $("room-title");
    if (room.summary.kind === "private") {
      // The lock the sidebar shows, said in words to a screen reader.
      title.replaceChildren(
        h("span", { class: "room-kind", "aria-hidden": "true" }, "🔒"),
        ` ${label}`,
        h("span", { class: "sr-only" }, " (private)"),
      );
    } else title.textContent = room.summary.kind === "direct" ? label : `# ${label}`;
    $("room-topic").textContent =
      room.summary.kind === "direct"
        ? `Direct message with @${room.summary.peer?.username ?? ""}`
        : room.summary.topic || (room.summary.kind === "private" ? "Private room" : "");
    this.scroller.setAttribute("aria-label", `Messages in ${label}`);
    this.input.placeholder = `Message ${room.summary.kind === "direct" ? label : "#" + label}`;
    const unread = document.title.match(COUNT)?.[0] ?? "";
    document.title = `${unread}${label} · Parley`;
  }

  // --- the timeline ---------------------------------------------------------------------

  renderAll() {
    const room = this.room;
    if (!room) return;
    const items = [];
    /** @type {Message | null} */
    let previous = null;
    let dividerPlaced = false;
    for (const message of room.sorted()) {
      if (
        this.dividerAfter !== null &&
        !dividerPlaced &&
        message.id > this.dividerAfter &&
        message.author.id !== this.chat.me.id
      ) {
        items.push(h("li", { class: "new-divider" }, h("span", {}, "New messages")));
        dividerPlaced = true;
        this.dividerBefore = message.id;
      }
      if (!previous || formatDay(previous.created_at) !== formatDay(message.created_at)) {
        items.push(h("li", { class: "day-divider" }, h("span", {}, formatDay(message.created_at))));
      }
      items.push(this.messageNode(message, previous));
      previous = message;
    }
    for (const entry of this.chat.pendingIn(this.roomId)) items.push(this.pendingNode(entry));
    const hitSelector = `li.message[data-id="${this.hitId}"]`;
    const hitFocused = this.hitId !== null && document.activeElement === this.list.querySelector(hitSelector);
    this.list.replaceChildren(...items);
    const hit = this.hitId === null ? null : this.list.querySelector(hitSelector);
    if (hit instanceof HTMLElement) {
      hit.classList.add("hit");
      hit.tabIndex = -1;
      if (hitFocused) hit.focus({ preventScroll: true });
    }
    this.renderHistoryStatus();
    this.renderJump();
  }

  renderHistoryStatus() {
    const room = this.room;
    const status = $("history-status");
    if (!room) return;
    if (!room.messages.size && !room.hasOlder) {
      status.textContent = "No messages yet. Say hello!";
    } else if (!room.hasOlder) {
      status.textContent = `This is the start of ${roomLabel(room.summary)}.`;
    } else {
      status.textContent = this.loadingOlder ? "Loading older messages…" : "";
    }
  }

  // Consecutive messages by one author within a few minutes share one header.
  /**
   * @param {Message} message
   * @param {Message | null} previous
   */
  messageNode(message, previous) {
    // The first new message names its author, whoever wrote the one above the divider.
    const grouped =
      message.id !== this.dividerBefore &&
      previous &&
      previous.author.id === message.author.id &&
      !previous.deleted &&
      Date.parse(message.created_at) - Date.parse(previous.created_at) < 5 * 60 * 1000 &&
      formatDay(previous.created_at) === formatDay(message.created_at);
    const mine = message.author.id === this.chat.me.id;
    const body = h("div", { class: "message-body" });
    let mentionsMe = false;
    if (message.deleted) {
      const by = message.deleted_by === "moderator" ? " by a moderator" : "";
      body.append(h("p", { class: "deleted-note" }, `This message was deleted${by}.`));
    } else {
      body.innerHTML = message.html; // rendered and sanitized by the server
      mentionsMe = markMentions(body, this.chat.me.id);
    }
    const mayReact = !message.deleted && this.postingRefusal() === null;
    const pinned = Boolean(message.pinned) && !message.deleted;
    const actions = [];
    if (!message.deleted && mine) {
      actions.push(
        h("button", { type: "button", class: "ghost small", "data-action": "edit", "aria-label": "Edit message" }, "Edit"),
      );
    }
    if (!message.deleted && (mine || this.chat.canModerate(this.roomId))) {
      actions.push(
        h("button", { type: "button", class: "ghost small", "data-action": "delete", "aria-label": "Delete message" }, "Delete"),
      );
    }
    // Edit and delete first, as before reactions and pins came; then those; then moderation.
    if (mayReact) {
      actions.push(
        h("button", { type: "button", class: "ghost small", "data-action": "react", "aria-label": "React to message" }, "React"),
      );
    }
    if (!message.deleted) {
      actions.push(
        h("button", { type: "button", class: "ghost small", "data-action": "thread", "aria-label": "Reply in thread" }, "Reply"),
      );
    }
    const room = this.room;
    if (!message.deleted && room && canPin(this.chat.me, room.summary)) {
      actions.push(
        h(
          "button",
          { type: "button", class: "ghost small", "data-action": "pin", "aria-label": pinned ? "Unpin message" : "Pin message" },
          pinned ? "Unpin" : "Pin",
        ),
      );
    }
    if (!mine && this.mayModerate(message.author.id)) {
      actions.push(this.moderateButton(message.author.id, `Moderate ${displayName(message.author)}`));
    }
    const time = h("time", { datetime: message.created_at, title: formatFull(message.created_at) }, formatTime(message.created_at));
    return h(
      "li",
      {
        class: `message${grouped ? " grouped" : ""}${mine ? " mine" : ""}${message.deleted ? " deleted" : ""}${mentionsMe ? " mentions-me" : ""}${pinned ? " pinned" : ""}`,
        // Which body it shows: an edit or a delete changes it, a reaction or a pin does not.
        dataset: {
          id: String(message.id),
          clientId: message.client_id || "",
          author: String(message.author.id),
          rev: `${message.edited_at ?? ""}${message.deleted ? " deleted" : ""}`,
        },
        id: `message-${message.id}`,
      },
      grouped ? h("span", { class: "gutter-time" }, time) : avatar(message.author),
      h(
        "div",
        { class: "message-main" },
        grouped
          ? null
          : h("div", { class: "message-meta" }, authorButton(message.author), time),
        pinned ? h("p", { class: "pinned-note" }, h("span", { "aria-hidden": "true" }, "📌 "), "Pinned") : null,
        body,
        message.edited_at && !message.deleted
          ? h(
              "button",
              {
                type: "button",
                class: "edited",
                title: `Edited ${formatFull(message.edited_at)}: show the earlier versions`,
                "aria-label": "Edited: show the earlier versions",
                dataset: { action: "history" },
              },
              "(edited)",
            )
          : null,
        reactionBar(message, this.chat.me.id, (id) => this.userName(id), mayReact),
        threadButton(message),
      ),
      actions.length ? h("div", { class: "message-actions" }, actions) : null,
    );
  }

  /** @param {PendingSend} entry */
  pendingNode(entry) {
    const failed = entry.state === "failed";
    const note =
      entry.waiting === "offline"
        ? "Waiting for the connection…"
        : entry.waiting === "later"
          ? "Sending in a moment…"
          : entry.waiting === "resending"
            ? "Sending again…"
            : "Sending…";
    return h(
      "li",
      { class: `message mine pending${failed ? " failed" : ""}`, dataset: { clientId: entry.clientId } },
      avatar(this.chat.me),
      h(
        "div",
        { class: "message-main" },
        h("div", { class: "message-meta" }, h("span", { class: "author", dataset: { userName: String(this.chat.me.id) } }, displayName(this.chat.me)), h("span", { class: "pending-state" }, failed ? "" : note)),
        h("div", { class: "message-body" }, h("p", { class: "plain" }, entry.body)),
        failed
          ? h(
              "p",
              { class: "send-failed", role: "alert" },
              entry.error ? `Not sent: ${entry.error} ` : "Not sent. ",
              entry.refused
                ? h("button", { type: "button", class: "link", "data-action": "restore" }, "Edit")
                : h("button", { type: "button", class: "link", "data-action": "retry" }, "Retry"),
              " ",
              h("button", { type: "button", class: "link", "data-action": "discard" }, "Discard"),
            )
          : null,
      ),
    );
  }

  // Puts one message where its id belongs, replacing an older copy.
  /** @param {Message} message */
  placeMessage(message) {
    const existing = this.list.querySelector(`li.message[data-id="${message.id}"]`);
    if (existing) {
      const previous = this.previousMessage(message);
      const fresh = this.messageNode(message, previous);
      if (existing.querySelector(".edit-form") && existing instanceof HTMLElement && existing.dataset.rev === fresh.dataset.rev) {
        // Being edited here, and only its reactions or pin changed: the editor stays.
        existing.querySelector(".reactions")?.remove();
        const bar = fresh.querySelector(".reactions");
        if (bar) existing.querySelector(".message-main")?.append(bar);
        return;
      }
      // Someone's reaction must not take the keyboard's place: the focus stays on the
      // same message, or on the same control of it.
      const focused = document.activeElement;
      const hadFocus = focused instanceof HTMLElement && existing.contains(focused);
      const same = hadFocus && focused !== existing ? sameControl(fresh, focused) : null;
      if (existing instanceof HTMLElement) fresh.tabIndex = existing.tabIndex;
      existing.replaceWith(fresh);
      if (hadFocus) (same ?? fresh).focus({ preventScroll: true });
      return;
    }
    const room = this.room;
    if (!room) return;
    const sorted = room.sorted();
    const index = sorted.findIndex((m) => m.id === message.id);
    const after = sorted[index + 1];
    if (!after) {
      // Usually the newest: a day change or simple append keeps the layout right.
      const last = sorted[index - 1];
      if (!last || formatDay(last.created_at) !== formatDay(message.created_at)) {
        this.list.querySelector("li.pending")
          ? this.list.insertBefore(this.dayNode(message), this.list.querySelector("li.pending"))
          : this.list.append(this.dayNode(message));
      }
      const node = this.messageNode(message, last);
      const firstPending = this.list.querySelector("li.pending");
      if (firstPending) this.list.insertBefore(node, firstPending);
      else this.list.append(node);
      return;
    }
    this.renderAll(); // an older message arrived late (catch-up): redraw in order
  }

  /** @param {Message} message */
  dayNode(message) {
    return h("li", { class: "day-divider" }, h("span", {}, formatDay(message.created_at)));
  }

  /** @param {Message} message */
  previousMessage(message) {
    const sorted = this.room?.sorted() ?? [];
    const index = sorted.findIndex((m) => m.id === message.id);
    return index > 0 ? sorted[index - 1] : null;
  }

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.pinned = true;
    this.showUnseen(0);
  }

  // "N new messages" below, while the reader is scrolled up; a click goes to them.
  /** @param {number} count */
  showUnseen(count) {
    this.unseen = count;
    this.renderJump();
  }

  scrollToStart() {
    const divider = this.list.querySelector(".new-divider");
    if (divider) {
      divider.scrollIntoView({ block: "center" });
      this.pinned = this.atBottom();
    } else this.scrollToBottom();
  }

  // Loads older pages until the list overflows, so scrolling up has somewhere to go.
  async fillViewport() {
    while (this.room?.hasOlder && this.scroller.scrollHeight <= this.scroller.clientHeight) {
      if (!(await this.loadOlder())) break;
    }
  }

  async loadOlder() {
    const room = this.room;
    if (!room || !room.hasOlder || this.loadingOlder || this.loadingRoom) return 0;
    this.loadingOlder = true;
    this.renderHistoryStatus();
    const opening = this.openings;
    const before = this.scroller.scrollHeight - this.scroller.scrollTop;
    let added = 0;
    try {
      added = await this.chat.loadOlder(room.id);
    } catch (err) {
      $("history-status").textContent = `Could not load older messages: ${err.message}`;
      return 0;
    } finally {
      this.loadingOlder = false;
    }
    if (this.openings !== opening) return 0;
    this.renderAll();
    // Keep the message that was on screen where it was.
    this.scroller.scrollTop = this.scroller.scrollHeight - before;
    this.pinned = this.atBottom();
    return added || (room.hasOlder ? 1 : 0);
  }

  bindTimeline() {
    bindMessageKeys(this.list);
    // Whatever changes the timeline's size (a panel opening beside or above it, lines
    // rewrapping, the composer growing) keeps the newest message in view for a reader
    // who was at the bottom.
    const keepPinned = new ResizeObserver(() => {
      if (this.pinned) this.scrollToBottom();
    });
    keepPinned.observe(this.scroller);
    keepPinned.observe(this.list);
    $("jump-latest").addEventListener("click", () => {
      // Opened at a search hit, the newest messages are not loaded yet: fetch them.
      if (this.room?.hasNewer) {
        this.jumpToLatest();
        return;
      }
      this.scrollToBottom();
      this.maybeRead();
      this.scroller.focus({ preventScroll: true });
    });
    this.scroller.addEventListener("scroll", () => {
      this.pinned = this.atBottom();
      if (this.pinned && this.unseen) this.showUnseen(0);
      if (this.scroller.scrollTop < NEAR_TOP_PX) this.loadOlder();
      if (this.atBottom()) {
        if (this.room?.hasNewer) this.loadNewer();
        this.maybeRead();
      }
    });
    this.list.addEventListener("click", (event) => {
      if (!(event.target instanceof Element)) return;
      const face = event.target.closest("[data-profile], li.message > .avatar[data-user-id]");
      if (face instanceof HTMLElement) {
        const item = face.closest("li");
        const opener = item?.querySelector("button[data-profile]");
        this.openProfile(Number(face.dataset.profile ?? face.dataset.userId), opener instanceof HTMLElement ? opener : null);
        return;
      }
      const button = event.target.closest("button[data-action]");
      if (!(button instanceof HTMLButtonElement)) return;
      const item = button.closest("li");
      if (!item) return;
      const action = button.dataset.action;
      if (action === "retry") this.chat.retry(item.dataset.clientId ?? "");
      else if (action === "discard") this.chat.discard(item.dataset.clientId ?? "");
      else if (action === "restore") this.restore(item.dataset.clientId ?? "");
      else if (action === "edit") this.startEdit(item);
      else if (action === "delete") this.deleteMessage(item, button);
      else if (action === "react") this.addReaction(item, button);
      else if (action === "toggle-reaction") this.toggleReaction(item, button);
      else if (action === "pin") this.togglePin(item);
      else if (action === "thread") {
        const message = this.room?.messages.get(Number(item.dataset.id));
        if (message) this.onOpenThread(message.thread_id || message.id, button);
      }
      else if (action === "history") {
        const message = this.room?.messages.get(Number(item.dataset.id));
        if (message) openEditHistory(message, button);
      }
    });
    document.addEventListener("visibilitychange", () => this.maybeRead());
    window.addEventListener("focus", () => this.maybeRead());
  }

  maybeRead() {
    if (this.roomId === null || document.visibilityState !== "visible" || !this.atBottom()) return;
    const roomId = this.roomId;
    this.chat.markRead(roomId).then((/** @type {boolean} */ moved) => {
      if (moved && this.roomId === roomId) this.maybeRead();
    });
  }

  // --- edit and delete ------------------------------------------------------------------

  /** @param {HTMLElement} item */
  startEdit(item) {
    const message = this.room?.messages.get(Number(item.dataset.id));
    const body = item.querySelector(".message-body");
    if (!message || !body || item.querySelector("textarea")) return;
    const editor = h("textarea", { class: "edit-input", "aria-label": "Edit message", rows: "2" });
    editor.value = message.body;
    const error = h("p", { class: "form-error", role: "alert" });
    const form = h(
      "form",
      { class: "edit-form" },
      editor,
      h("p", { class: "hint" }, "Enter to save, Escape to cancel"),
      error,
    );
    const cancel = () => {
      this.placeMessage(this.room?.messages.get(message.id) ?? message);
      const editButton = this.list.querySelector(`li.message[data-id="${message.id}"] button[data-action="edit"]`);
      if (editButton instanceof HTMLElement) editButton.focus();
    };
    const save = async () => {
      const text = editor.value.trim();
      if (!text) return;
      if (text === message.body) return cancel();
      try {
        const ack = await this.chat.edit(message.id, text);
        this.applyOwnChange(ack.message);
        this.input.focus();
      } catch (err) {
        error.textContent = fieldMessage(err);
      }
    };
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        save();
      } else if (event.key === "Escape") {
        event.preventDefault();
        cancel();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save();
    });
    body.replaceWith(form);
    editor.focus();
    editor.setSelectionRange(editor.value.length, editor.value.length);
  }

  /**
   * @param {HTMLElement} item
   * @param {HTMLButtonElement} button
   */
  async deleteMessage(item, button) {
    const id = Number(item.dataset.id);
    if (!(await confirmDelete(button))) return;
    try {
      const ack = await this.chat.remove(id);
      this.applyOwnChange(ack.message);
    } catch (err) {
      this.announce(`Could not delete: ${fieldMessage(err)}`);
    }
  }

  // --- reactions and pins ---------------------------------------------------------------

  /**
   * @param {HTMLElement} item
   * @param {HTMLButtonElement} opener
   */
  async addReaction(item, opener) {
    const id = Number(item.dataset.id);
    const emoji = await pickEmoji(opener, "Add a reaction");
    if (!emoji) return;
    await this.react(id, emoji, true);
    // Focus back where the person was: the new chip, drawn afresh.
    const chip = this.list.querySelector(`li.message[data-id="${id}"] button.reaction[data-emoji="${CSS.escape(emoji)}"]`);
    if (chip instanceof HTMLElement) chip.focus({ preventScroll: true });
  }

  /**
   * @param {HTMLElement} item
   * @param {HTMLButtonElement} button
   */
  async toggleReaction(item, button) {
    const id = Number(item.dataset.id);
    if (button.getAttribute("aria-disabled") === "true") return;
    const emoji = button.dataset.emoji ?? "";
    await this.react(id, emoji, button.getAttribute("aria-pressed") !== "true");
    if (!focusStayed(button)) return;
    const chip = this.list.querySelector(`li.message[data-id="${id}"] button.reaction[data-emoji="${CSS.escape(emoji)}"]`);
    if (chip instanceof HTMLElement) chip.focus({ preventScroll: true });
    else this.list.querySelector(`li.message[data-id="${id}"]`)?.closest("li")?.focus({ preventScroll: true });
  }

  /**
   * @param {number} messageId
   * @param {string} emoji
   * @param {boolean} on
   */
  async react(messageId, emoji, on) {
    try {
      await this.chat.react(messageId, emoji, on);
      this.announce(on ? `Reacted with ${emoji}.` : `Took back your ${emoji}.`);
    } catch (err) {
      this.announce(`Could not react: ${fieldMessage(err)}`);
    }
  }

  /** @param {HTMLElement} item */
  async togglePin(item) {
    const pressed = document.activeElement;
    const id = Number(item.dataset.id);
    const message = this.room?.messages.get(id);
    if (!message) return;
    try {
      await this.chat.pin(id, !message.pinned);
      this.announce(message.pinned ? "Unpinned." : "Pinned to the room.");
      const button = this.list.querySelector(`li.message[data-id="${id}"] button[data-action="pin"]`);
      if (button instanceof HTMLElement && focusStayed(pressed)) button.focus({ preventScroll: true });
    } catch (err) {
      this.announce(`Could not pin: ${fieldMessage(err)}`);
    }
  }

  /**
   * An edit or delete of ours, applied to the room it belongs to: the answer may come
   * after the reader has moved to another room.
   * @param {Message} message
   */
  applyOwnChange(message) {
    const room = this.chat.rooms.get(message.room_id);
    if (room) this.chat.applyMessage(room, message, { live: false });
  }

  // --- the composer ---------------------------------------------------------------------

  bindComposer() {
    const form = $("composer", HTMLFormElement);
    this.suggestions = new Autocomplete(this.input, $("composer-suggestions"), {
      people: () => peopleOf(this.room?.members?.values() ?? [], this.chat.me.id),
      callWords: () => this.callWords(),
    });
    const emojiButton = $("composer-emoji");
    emojiButton.addEventListener("click", async () => {
      const emoji = await pickEmoji(emojiButton, "Insert an emoji");
      if (emoji) this.insertText(emoji);
      else this.input.focus();
    });
    $("not-notified").addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("button") : null;
      if (button?.id === "not-notified-invite") this.inviteNotNotified();
      else if (button?.id === "not-notified-dismiss") this.showNotNotified(null);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendDraft();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.defaultPrevented) return; // the suggestions took it
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.sendDraft();
      }
    });
    this.input.addEventListener("input", () => {
      this.renderLength();
      this.autosize();
      this.saveDraft();
      if (this.roomId !== null && this.input.value.trim()) this.chat.typing(this.roomId);
    });
  }

  // Who may be called all at once here: @here always, @room in a room of more than 50
  // members only by its moderators (as actions/mentions.py allows).
  callWords() {
    const room = this.room;
    if (!room || room.summary.kind === "direct") return [];
    const mayCallRoom = room.summary.member_count <= 50 || myRank(this.chat.me, room.summary) >= 1;
    return mayCallRoom ? ["room", "here"] : ["here"];
  }

  /** @param {string} text */
  insertText(text) {
    const input = this.input;
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? start;
    input.setRangeText(text, start, end, "end");
    input.focus();
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // People named in a message just sent who cannot read the room: offered an invitation.
  /** @param {{roomId: number, userIds: number[], message: Message} | null} notice */
  showNotNotified(notice) {
    this.notNotified = notice;
    const box = $("not-notified");
    const room = notice ? this.chat.rooms.get(notice.roomId) : undefined;
    if (!notice || !room || notice.roomId !== this.roomId) {
      box.hidden = true;
      return;
    }
    const names = notice.userIds.map((id) => mentionName(notice.message, id));
    const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
    $("not-notified-text").textContent = `${list} ${names.length === 1 ? "is" : "are"} not in this room, so ${names.length === 1 ? "was" : "were"} not told of your mention.`;
    $("not-notified-invite").hidden = !canInvite(room.summary);
    $("not-notified-invite").textContent = names.length === 1 ? `Invite ${names[0]}` : "Invite them";
    box.hidden = false;
  }

  async inviteNotNotified() {
    const notice = this.notNotified;
    if (!notice) return;
    try {
      for (const id of notice.userIds) await api.invite(notice.roomId, id);
      this.showNotNotified(null);
      this.announce("Invited.");
      this.input.focus();
    } catch (err) {
      $("not-notified-text").textContent = `Could not invite: ${fieldMessage(err)}`;
    }
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 200)}px`;
  }

  saveDraft() {
    if (this.roomId === null) return;
    const key = DRAFT_KEY + this.roomId;
    if (this.input.value) localStorage.setItem(key, this.input.value);
    else localStorage.removeItem(key);
  }

  // The counter near the limit; past it, why the message cannot go (cleared once it fits).
  renderLength() {
    const length = bodyLength(this.input.value);
    const count = $("composer-count");
    count.hidden = length < COUNT_FROM;
    count.textContent = count.hidden ? "" : counterText(length);
    count.classList.toggle("over", length > MAX_BODY);
    if (length <= MAX_BODY) {
      $("composer-error").textContent = "";
      this.input.removeAttribute("aria-invalid");
    }
  }

  sendDraft() {
    const body = this.input.value.trim();
    if (!body || this.roomId === null) return;
    const length = bodyLength(body);
    if (length > MAX_BODY) {
      $("composer-error").textContent = tooLongText(length);
      this.input.setAttribute("aria-invalid", "true");
      return;
    }
    const refusal = this.postingRefusal();
    if (refusal) {
      // Kept in the composer: it can be sent once the room is open to it again.
      $("composer-status").textContent = refusal;
      this.announce(`Not sent. ${refusal}`);
      return;
    }
    // What is sent shows at the newest end, so go there.
    if (this.room?.hasNewer) this.jumpToLatest();
    this.chat.send(this.roomId, body);
    this.input.value = "";
    this.saveDraft();
    this.renderLength();
    this.autosize();
    this.scrollToBottom();
  }

  // A refused message back in the composer, to be changed and sent again.
  /** @param {string} clientId */
  restore(clientId) {
    const entry = this.chat.pending.get(clientId);
    if (!entry) return;
    const typed = this.input.value.trim();
    this.input.value = typed ? `${entry.body}\n${typed}` : entry.body;
    this.chat.discard(clientId);
    this.saveDraft();
    this.renderLength();
    this.autosize();
    this.input.focus();
  }

  renderComposerState() {
    $("composer-status").textContent = this.postingRefusal() ?? "";
    clearTimeout(this.unmuteTimer);
    const mutedUntil = this.room?.summary.muted_until;
    const left = mutedUntil ? Date.parse(mutedUntil) - Date.now() : 0;
    // A mute ends by itself: the composer says so when it does (timers past ~24 days fire at once).
    if (left > 0 && left < 2 ** 31) this.unmuteTimer = setTimeout(() => this.renderComposerState(), left + 500);
  }

  /** Why the server would refuse a message here now (archived, muted), or null. */
  postingRefusal() {
    const summary = this.room?.summary;
    const mutedUntil = summary?.muted_until;
    if (summary?.archived) return "This room is archived: it is read-only.";
    if (mutedUntil && new Date(mutedUntil) > new Date()) return `You are muted here until ${formatFull(mutedUntil)}.`;
    return null;
  }

  renderPending() {
    for (const node of this.list.querySelectorAll("li.pending")) node.remove();
    const stick = this.atBottom();
    for (const entry of this.chat.pendingIn(this.roomId)) this.list.append(this.pendingNode(entry));
    if (stick) this.scrollToBottom();
  }

  // --- typing and members ---------------------------------------------------------------

  renderTyping() {
    const room = this.room;
    const el = $("typing-indicator");
    if (!room || !room.typing.size) {
      el.textContent = "";
      return;
    }
    const names = [...room.typing.keys()].map((id) => this.userName(id));
    el.textContent =
      names.length === 1
        ? `${names[0]} is typing…`
        : names.length === 2
          ? `${names[0]} and ${names[1]} are typing…`
          : "Several people are typing…";
  }

  /** @param {number} userId */
  userName(userId) {
    const room = this.room;
    const member = room?.members?.get(userId);
    if (member) return displayName(member.user);
    if (room?.summary.peer?.id === userId) return displayName(room.summary.peer);
    for (const message of room?.messages.values() ?? []) {
      if (message.author.id === userId) return displayName(message.author);
    }
    return "Someone";
  }

  /**
   * @param {number} userId
   * @param {HTMLElement | null} opener
   */
  openProfile(userId, opener) {
    const room = this.room;
    const user =
      room?.members?.get(userId)?.user ??
      (room?.summary.peer?.id === userId ? room.summary.peer : null) ??
      [...(room?.messages.values() ?? [])].find((m) => m.author.id === userId)?.author ??
      (this.chat.me.id === userId ? this.chat.me : null);
    if (user) openProfileCard(user, opener);
  }

  /** @param {boolean} visible */
  async showMembers(visible) {
    const wasVisible = !$("members-panel").hidden;
    $("members-panel").hidden = !visible;
    $("panel-scrim").hidden = !visible;
    $("members-toggle").setAttribute("aria-expanded", String(visible));
    if (visible && !wasVisible) $("members-close").focus({ preventScroll: true });
    if (visible && this.roomId !== null) {
      if (!this.room?.members) await this.chat.loadMembers(this.roomId).catch(() => {});
      this.renderMembers();
    }
  }

  // Closed by a person (button, close control, Escape, the scrim): focus goes back to
  // the button that opened it.
  closeMembers() {
    if ($("members-panel").hidden) return;
    this.showMembers(false);
    $("members-toggle").focus({ preventScroll: true });
  }

  renderMembers() {
    const room = this.room;
    if (!room?.members || $("members-panel").hidden) return;
    /** @type {Record<string, number>} */
    const order = { owner: 0, moderator: 1, member: 2 };
    const members = [...room.members.values()]
      .filter((m) => !m.banned)
      .sort(
        (a, b) =>
          Number(this.chat.online.has(b.user.id)) - Number(this.chat.online.has(a.user.id)) ||
          order[a.role] - order[b.role] ||
          displayName(a.user).localeCompare(displayName(b.user)),
      );
    $("member-list").replaceChildren(
      ...members.map((m) => {
        const online = this.chat.online.has(m.user.id);
        return h(
          "li",
          { class: "member" },
          h(
            "button",
            { type: "button", class: "member-button", dataset: { profile: String(m.user.id) } },
            h("span", { class: `presence ${online ? "online" : "offline"}`, role: "img", "aria-label": online ? "online" : "offline" }),
            avatar(m.user, "small"),
            h("span", { class: "member-name", dataset: { userName: String(m.user.id) } }, displayName(m.user)),
            m.role !== "member" ? h("span", { class: "role-tag" }, m.role) : null,
            mutedUntilOf(m) ? h("span", { class: "role-tag", title: `Muted until ${formatFull(mutedUntilOf(m) ?? "")}` }, "muted") : null,
          ),
          this.mayModerate(m.user.id) ? this.moderateButton(m.user.id, `Moderate ${displayName(m.user)}`) : null,
        );
      }),
    );
    const banned = myRank(this.chat.me, room.summary) >= 1 ? [...room.members.values()].filter((m) => m.banned) : [];
    $("banned-section").hidden = !banned.length;
    $("banned-list").replaceChildren(
      ...banned.map((m) =>
        h(
          "li",
          { class: "member" },
          avatar(m.user, "small"),
          h("span", { class: "member-name" }, displayName(m.user)),
          this.mayModerate(m.user.id) ? this.moderateButton(m.user.id, `Moderate ${displayName(m.user)} (banned)`) : null,
        ),
      ),
    );
  }

  /** @param {number} userId */
  mayModerate(userId) {
    const room = this.room;
    const member = room?.members?.get(userId);
    return Boolean(room && member && canModerate(this.chat.me, room.summary, member));
  }

  /**
   * A button that opens moderation.js's dialog for this member.
   * @param {number} userId
   * @param {string} label
   */
  moderateButton(userId, label) {
    return h(
      "button",
      { type: "button", class: "ghost small", dataset: { moderate: String(userId), roomId: String(this.roomId) }, "aria-label": label, title: label },
      "Moderate",
    );
  }

  // Redraws the messages on screen in place, keeping the reader where they were.
  refreshMessageActions() {
    const before = this.scroller.scrollTop;
    const stick = this.atBottom();
    this.renderAll();
    if (stick) this.scrollToBottom();
    else this.scroller.scrollTop = before;
  }

  // --- reacting to the chat state -------------------------------------------------------

  bindChat() {
    const chat = this.chat;
    chat.addEventListener("message", ({ detail }) => {
      if (detail.roomId !== this.roomId || !this.room?.loaded) return;
      const stick = this.atBottom();
      this.placeMessage(detail.message);
      this.renderHistoryStatus();
      if (detail.isNew && detail.live && detail.message.author.id !== chat.me.id) {
        const text = detail.message.body.length > 140 ? detail.message.body.slice(0, 140) + "…" : detail.message.body;
        this.announce(`${displayName(detail.message.author)}: ${text}`);
      }
      if (stick || detail.message.author.id === chat.me.id) this.scrollToBottom();
      else if (detail.isNew && detail.live && !detail.message.deleted) this.showUnseen(this.unseen + 1);
      this.maybeRead();
    });
    chat.addEventListener("messages", ({ detail }) => {
      if (detail.roomId === this.roomId && this.room?.loaded) {
        this.renderAll();
        this.scrollToStart();
      }
    });
    chat.addEventListener("notnotified", ({ detail }) => {
      if (detail.roomId === this.roomId) this.showNotNotified(/** @type {any} */ (detail));
    });
    chat.addEventListener("pending", ({ detail }) => {
      if (detail.roomId === this.roomId) this.renderPending();
    });
    chat.addEventListener("typing", ({ detail }) => {
      if (detail.roomId === this.roomId) this.renderTyping();
    });
    chat.addEventListener("members", ({ detail }) => {
      if (detail.roomId !== this.roomId) return;
      this.renderMembers();
      // Who may be moderated from a message's menu follows the members' roles.
      const room = this.room;
      if (room?.loaded && myRank(chat.me, room.summary) >= 1 && !this.list.querySelector(".edit-form")) {
        this.refreshMessageActions();
      }
    });
    chat.addEventListener("presence", () => this.renderMembers());
    chat.addEventListener("room", ({ detail }) => {
      if (detail.roomId !== this.roomId) return;
      this.renderHeader();
      this.renderComposerState();
    });
    chat.addEventListener("connection", ({ detail }) => {
      if (detail.state === "online") this.maybeRead();
    });
    chat.addEventListener("readdue", ({ detail }) => {
      if (detail.roomId === this.roomId) this.maybeRead();
    });
    chat.addEventListener("beyond", ({ detail }) => {
      if (detail.roomId === this.roomId) this.renderJump();
    });
    $("member-list").addEventListener("click", (event) => {
      const button = event.target instanceof Element && event.target.closest("button[data-profile]");
      if (button instanceof HTMLButtonElement) this.openProfile(Number(button.dataset.profile), button);
    });
    $("members-toggle").addEventListener("click", () => {
      if ($("members-panel").hidden) this.showMembers(true);
      else this.closeMembers();
    });
    $("members-close").addEventListener("click", () => this.closeMembers());
    $("panel-scrim").addEventListener("click", () => this.closeMembers());
  }
}

// Marks the mentions of me (by name, @room and @here) in a message's body; answers
// whether there was any.
/**
 * @param {HTMLElement} body
 * @param {number} meId
 */
function markMentions(body, meId) {
  let found = false;
  for (const span of body.querySelectorAll("span.mention")) {
    if (!(span instanceof HTMLElement)) continue;
    if (span.dataset.userId === String(meId) || span.dataset.mention === "room" || span.dataset.mention === "here") {
      span.classList.add("of-me");
      found = true;
    }
  }
  return found;
}

// The control in a freshly drawn message that stands where `control` stood in the old.
/**
 * @param {HTMLElement} fresh
 * @param {HTMLElement} control
 * @returns {HTMLElement | null}
 */
function sameControl(fresh, control) {
  const { action, emoji, profile } = control.dataset;
  let selector = null;
  if (emoji) selector = `[data-emoji="${CSS.escape(emoji)}"]`;
  else if (action) selector = `[data-action="${CSS.escape(action)}"]`;
  else if (profile) selector = `[data-profile="${CSS.escape(profile)}"]`;
  const found = selector ? fresh.querySelector(selector) : null;
  return found instanceof HTMLElement ? found : null;
}

// A name the server wrote into the message for a mention (`@carol`), else a placeholder.
/**
 * @param {Message} message
 * @param {number} userId
 */
function mentionName(message, userId) {
  const body = document.createElement("div");
  body.innerHTML = message.html; // rendered and sanitized by the server
  return body.querySelector(`span.mention[data-user-id="${userId}"]`)?.textContent ?? "someone";
}

// A message's author: a button that opens their card, named so a live rename finds it.
/** @param {import("./shapes.js").User} user */
function authorButton(user) {
  return h(
    "button",
    { type: "button", class: "author", dataset: { profile: String(user.id), userName: String(user.id) } },
    displayName(user),
  );
}

// Under a root with replies: how many and when the last came, a button to the thread.
/** @param {Message} message */
export function threadButton(message) {
  const thread = message.thread;
  if (!thread || !thread.reply_count) return null;
  const count = `${thread.reply_count} ${thread.reply_count === 1 ? "reply" : "replies"}`;
  return h(
    "button",
    { type: "button", class: "thread-summary link", dataset: { action: "thread" } },
    h("span", { class: "thread-count" }, count),
    " ",
    h("time", { class: "thread-last", datetime: thread.last_reply_at, title: formatFull(thread.last_reply_at) }, `Last reply ${formatTime(thread.last_reply_at)}`),
  );
}

/**
 * Whether the focus is still where an action left it when its answer comes: on the
 * control pressed, or nowhere because a redraw removed that control. Anywhere else the
 * person has moved on (to the message box, say), and the answer must not take it back.
 * @param {Element | null} pressed
 */
function focusStayed(pressed) {
  const now = document.activeElement;
  return now === pressed || now === null || now === document.body;
}
