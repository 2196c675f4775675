// @ts-check
// A thread's panel, beside the timeline (full screen on a phone): its root, its replies
// (GET /messages/<id>/thread, paged on with `after`), replies arriving live, and its own
// composer with "Also send to room". Opening it marks the thread read.

import { api } from "./api.js";
import { $, displayName, formatFull, h, roomLabel } from "./dom.js";
import { confirmDelete, openDialog } from "./dialogs.js";
import { pickEmoji } from "./emoji.js";
import { openEditHistory } from "./edit_history.js";
import { fieldMessage } from "./errors.js";

/** @typedef {import("./chat.js").Chat} Chat */
/** @typedef {import("./room_view.js").RoomView} RoomView */
/** @typedef {import("./shapes.js").Message} Message */

/** @param {Message} m */
const freshness = (m) => Math.max(m.seq || 0, m.changed_seq || 0);

// What a message's node offers in the panel: reading, reacting and deleting; the rest
// (edit, pin, moderation, another thread) belongs to the timeline.
const PANEL_ACTIONS = new Set(["react", "toggle-reaction", "delete", "history", "retry", "discard"]);

export class ThreadPanel {
  /**
   * @param {Chat} chat
   * @param {RoomView} roomView
   * @param {(text: string) => void} announce
   */
  constructor(chat, roomView, announce) {
    this.chat = chat;
    this.roomView = roomView;
    this.announce = announce;
    this.panel = $("thread-panel");
    this.scroller = $("thread-scroller");
    this.list = $("thread-list");
    this.input = $("thread-input", HTMLTextAreaElement);
    this.also = $("thread-also", HTMLInputElement);
    /** @type {number | null} */
    this.roomId = null;
    /** @type {number | null} */
    this.rootId = null;
    /** @type {Message | null} */
    this.root = null;
    /** @type {Map<number, Message>} */
    this.replies = new Map();
    this.hasMore = false;
    this.loaded = false;
    this.openings = 0;
    /** @type {HTMLElement | null} */
    this.opener = null;
    this.bind();
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  /**
   * @param {number} roomId
   * @param {number} rootId
   * @param {HTMLElement | null} [opener] where focus goes back on closing
   * @param {number | null} [hitId] a reply to show, marked and focused (a search hit)
   */
  async open(roomId, rootId, opener = null, hitId = null) {
    const opening = ++this.openings;
    this.roomId = roomId;
    this.rootId = rootId;
    this.opener = opener;
    this.root = this.chat.rooms.get(roomId)?.messages.get(rootId) ?? null;
    this.replies = new Map();
    this.hasMore = false;
    this.loaded = false;
    this.panel.hidden = false;
    document.body.classList.add("thread-open");
    this.input.value = "";
    this.also.checked = false;
    $("thread-error").textContent = "";
    this.renderRoot();
    this.list.replaceChildren();
    $("thread-more").hidden = true;
    $("thread-status").textContent = "Loading replies…";
    this.input.focus({ preventScroll: true });
    try {
      const page = await api.thread(rootId, 0);
      if (opening !== this.openings) return;
      this.root = page.root;
      this.rootId = page.root.id;
      for (const message of page.messages) this.hold(message);
      this.hasMore = page.has_more;
      this.loaded = true;
    } catch (err) {
      if (opening === this.openings) $("thread-status").textContent = `Could not load the thread: ${err.message}`;
      return;
    }
    this.renderRoot();
    this.renderReplies();
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.markRead();
    if (hitId !== null) await this.showHit(hitId, opening);
  }

  /**
   * A reply found by search: the pages up to it are loaded, and it is marked and focused.
   * @param {number} hitId
   * @param {number} opening
   */
  async showHit(hitId, opening) {
    while (!this.replies.has(hitId) && this.hasMore && opening === this.openings) {
      const before = this.replies.size;
      await this.loadMore();
      if (this.replies.size === before) break;
    }
    if (opening !== this.openings) return;
    const node = document.getElementById(`thread-message-${hitId}`);
    if (!node) {
      this.announce("That reply is no longer in the thread.");
      return;
    }
    node.classList.add("hit");
    node.tabIndex = -1;
    node.scrollIntoView({ block: "center" });
    node.focus({ preventScroll: true });
    this.announce("Showing the reply you searched for, in its thread.");
  }

  /** @param {boolean} [refocus] focus goes back to what opened it */
  close(refocus = true) {
    if (this.panel.hidden) return;
    this.openings += 1;
    this.panel.hidden = true;
    document.body.classList.remove("thread-open");
    this.roomId = null;
    this.rootId = null;
    this.root = null;
    this.replies = new Map();
    if (refocus) {
      const opener = this.opener;
      if (opener?.isConnected && opener.getClientRects().length) opener.focus({ preventScroll: true });
      else this.roomView.input.focus({ preventScroll: true });
    }
    this.opener = null;
  }

  /** @param {Message} message */
  hold(message) {
    const held = this.replies.get(message.id);
    if (held && freshness(held) >= freshness(message)) return false;
    this.replies.set(message.id, message);
    return true;
  }

  sorted() {
    return [...this.replies.values()].sort((a, b) => a.id - b.id);
  }

  async loadMore() {
    if (this.rootId === null || !this.hasMore) return;
    const opening = this.openings;
    const sorted = this.sorted();
    const after = sorted.length ? sorted[sorted.length - 1].id : 0;
    try {
      const page = await api.thread(this.rootId, after);
      if (opening !== this.openings) return;
      for (const message of page.messages) this.hold(message);
      this.hasMore = page.has_more;
    } catch (err) {
      $("thread-status").textContent = `Could not load more replies: ${err.message}`;
      return;
    }
    this.renderReplies();
    this.markRead();
  }

  // The newest reply held is read; the server keeps the mark from going back.
  async markRead() {
    if (this.rootId === null || document.visibilityState !== "visible") return;
    const sorted = this.sorted();
    const newest = sorted.length ? sorted[sorted.length - 1].id : 0;
    if (!newest) return;
    try {
      await api.threadRead(this.rootId, newest);
    } catch {
      /* the next reply or opening marks it again */
    }
  }

  // --- drawing ----------------------------------------------------------------------------

  /**
   * A message as the timeline draws it, with the panel's actions alone and ids of its own.
   * @param {Message} message
   * @param {Message | null} previous
   */
  node(message, previous) {
    const node = this.roomView.messageNode(message, previous);
    node.id = `thread-message-${message.id}`;
    node.querySelector(".thread-summary")?.remove();
    for (const button of node.querySelectorAll("button[data-action]")) {
      if (button instanceof HTMLElement && !PANEL_ACTIONS.has(button.dataset.action ?? "")) button.remove();
    }
    const actions = node.querySelector(".message-actions");
    if (actions && !actions.children.length) actions.remove();
    return node;
  }

  renderRoot() {
    const root = this.root;
    const count = root?.thread?.reply_count || 0;
    $("thread-root").replaceChildren(...(root ? [this.node(root, null)] : []));
    $("thread-heading").textContent = count ? `Thread · ${count} ${count === 1 ? "reply" : "replies"}` : "Thread";
  }

  renderReplies() {
    const stick = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 80;
    /** @type {HTMLElement[]} */
    const nodes = [];
    /** @type {Message | null} */
    let previous = null;
    for (const message of this.sorted()) {
      nodes.push(this.node(message, previous));
      previous = message;
    }
    if (this.rootId !== null) {
      for (const entry of this.chat.pendingInThread(this.rootId)) nodes.push(this.roomView.pendingNode(entry));
    }
    this.list.replaceChildren(...nodes);
    const n = this.replies.size;
    $("thread-status").textContent = this.loaded ? (n ? "" : "No replies yet.") : $("thread-status").textContent;
    $("thread-more").hidden = !this.hasMore;
    if (stick) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  // --- events -----------------------------------------------------------------------------

  bind() {
    const chat = this.chat;
    $("thread-close").addEventListener("click", () => this.close());
    $("thread-more").addEventListener("click", () => this.loadMore());
    $("thread-composer").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    for (const list of [this.list, $("thread-root")]) {
      list.addEventListener("click", (event) => this.onClick(event));
    }
    chat.addEventListener("reply", ({ detail }) => {
      const message = /** @type {Message} */ (detail.message);
      if (!this.loaded || message.thread_id !== this.rootId) return;
      // Past a page not yet fetched, the reply comes with "Show more replies".
      if (this.hasMore && !this.replies.has(message.id)) return;
      if (!this.hold(message)) return;
      this.renderReplies();
      if (detail.live && message.author.id !== chat.me.id) this.markRead();
    });
    chat.addEventListener("pending", ({ detail }) => {
      if (this.loaded && detail.roomId === this.roomId) this.renderReplies();
    });
    chat.addEventListener("thread", ({ detail }) => {
      if (detail.rootId !== this.rootId || !this.root) return;
      this.root = { ...this.root, thread: detail.thread };
      this.renderRoot();
    });
    chat.addEventListener("message", ({ detail }) => {
      if (detail.message.id === this.rootId) {
        this.root = detail.message;
        this.renderRoot();
      }
    });
    chat.addEventListener("patch", ({ detail }) => {
      if (this.rootId === null) return;
      const held = this.replies.get(detail.messageId);
      if (held) {
        this.replies.set(held.id, { ...held, ...detail.change, changed_seq: Math.max(held.changed_seq || 0, detail.seq) });
        this.renderReplies();
      } else if (detail.messageId === this.rootId && this.root) {
        this.root = { ...this.root, ...detail.change };
        this.renderRoot();
      }
    });
    // Replies sent while the link was down: fetched from the newest held.
    chat.addEventListener("connection", ({ detail }) => {
      if (detail.state !== "online" || !this.loaded || !this.isOpen) return;
      this.hasMore = true;
      this.loadMore();
    });
    chat.addEventListener("left", ({ detail }) => {
      if (detail.roomId === this.roomId) this.close(false);
    });
  }

  send() {
    const body = this.input.value.trim();
    if (!body || this.roomId === null || this.rootId === null) return;
    this.chat.send(this.roomId, body, { threadId: this.rootId, alsoToRoom: this.also.checked });
    this.input.value = "";
    // Each reply chooses anew whether the room sees it.
    this.also.checked = false;
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  // The message was drawn afresh with its reactions: the keyboard goes back to the chip,
  // or to the message when the chip is gone.
  /**
   * @param {number} id
   * @param {string} emoji
   */
  focusChip(id, emoji) {
    const item = document.getElementById(`thread-message-${id}`);
    const chip = item?.querySelector(`button.reaction[data-emoji="${CSS.escape(emoji)}"]`);
    if (chip instanceof HTMLElement) chip.focus({ preventScroll: true });
    else item?.focus({ preventScroll: true });
  }

  /** @param {MouseEvent} event */
  async onClick(event) {
    if (!(event.target instanceof Element)) return;
    const button = event.target.closest("button[data-action]");
    if (!(button instanceof HTMLButtonElement)) return;
    const item = button.closest("li");
    if (!(item instanceof HTMLElement)) return;
    const id = Number(item.dataset.id);
    const message = id === this.rootId ? this.root : this.replies.get(id);
    const action = button.dataset.action;
    try {
      if (action === "retry") this.chat.retry(item.dataset.clientId ?? "");
      else if (action === "discard") this.chat.discard(item.dataset.clientId ?? "");
      else if (action === "react") {
        const emoji = await pickEmoji(button, "Add a reaction");
        if (emoji) {
          await this.chat.react(id, emoji, true);
          this.focusChip(id, emoji);
        }
      } else if (action === "toggle-reaction") {
        if (button.getAttribute("aria-disabled") === "true") return;
        const emoji = button.dataset.emoji ?? "";
        await this.chat.react(id, emoji, button.getAttribute("aria-pressed") !== "true");
        this.focusChip(id, emoji);
      } else if (action === "delete") {
        if (await confirmDelete(button)) await this.chat.remove(id);
      } else if (action === "history" && message) openEditHistory(message, button);
    } catch (err) {
      this.announce(`Could not do that: ${fieldMessage(err)}`);
    }
  }
}

/**
 * @typedef {object} FollowedThread
 * @property {Message} root
 * @property {number} unread_count
 * @property {number} last_read_id
 */

const SNIPPET_CHARS = 200;
const REFRESH_MS = 500;

// The threads I follow (GET /threads), newest reply first, in a dialog opened from the
// sidebar, whose button counts their unread replies; each opens its room and the thread.
export class ThreadsView {
  /** @param {Chat} chat */
  constructor(chat) {
    this.chat = chat;
    this.dialog = $("threads-dialog", HTMLDialogElement);
    /** @type {FollowedThread[]} */
    this.threads = [];
    this.hasMore = false;
    // Pages past the first were loaded ("Show more threads") since the dialog opened.
    this.paged = false;
    this.asked = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.refreshTimer = undefined;
    const button = $("threads-button");
    button.addEventListener("click", () => this.open(button));
    $("threads-more").addEventListener("click", () => this.load(true));
    $("threads-list").addEventListener("click", (event) => {
      if (event.target instanceof Element && event.target.closest("a")) this.dialog.close();
    });
    // A reply from someone else, or my read mark moving: the counts change.
    chat.addEventListener("reply", ({ detail }) => {
      if (detail.live && detail.message.author.id !== chat.me.id) this.refreshSoon();
    });
    chat.addEventListener("threadunread", ({ detail }) => {
      const followed = this.threads.find((t) => t.root.id === detail.root_id);
      if (followed) {
        followed.unread_count = detail.unread_count;
        followed.last_read_id = detail.last_read_id;
        this.render();
      } else this.refreshSoon();
    });
    chat.addEventListener("connection", ({ detail }) => {
      if (detail.state === "online") this.refreshSoon();
    });
  }

  refreshSoon() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.load(), REFRESH_MS);
  }

  /** @param {HTMLElement} opener */
  open(opener) {
    this.paged = false;
    openDialog(this.dialog, opener);
    this.render();
    this.load();
  }

  /** @param {boolean} [older] the page after those held, rather than the first again */
  async load(older = false) {
    const asked = ++this.asked;
    const status = $("threads-status");
    if (this.dialog.open && !this.threads.length) status.textContent = "Loading…";
    let answer;
    try {
      answer = await api.threads(older ? this.threads[this.threads.length - 1]?.root.id : undefined);
    } catch (err) {
      if (asked === this.asked && this.dialog.open) status.textContent = `Could not load your threads: ${err.message}`;
      return;
    }
    if (asked !== this.asked) return;
    /** @type {FollowedThread[]} */
    const page = answer.threads;
    if (older) {
      const held = new Set(this.threads.map((t) => t.root.id));
      this.threads = [...this.threads, ...page.filter((t) => !held.has(t.root.id))];
      this.hasMore = answer.has_more;
      this.paged = true;
    } else if (this.paged) {
      // The pages past the first stay: a thread only moves up, into the first page.
      const fresh = new Set(page.map((t) => t.root.id));
      this.threads = [...page, ...this.threads.filter((t) => !fresh.has(t.root.id))];
    } else {
      this.threads = page;
      this.hasMore = answer.has_more;
    }
    this.render();
  }

  render() {
    let count = 0;
    for (const followed of this.threads) count += followed.unread_count;
    const badge = $("threads-count");
    badge.hidden = !count;
    badge.textContent = count > 99 ? "99+" : String(count);
    $("threads-button").setAttribute("aria-label", count ? `Threads, ${count} unread` : "Threads");
    if (!this.dialog.open) return;
    const n = this.threads.length;
    $("threads-status").textContent = n
      ? `${n}${this.hasMore ? "+" : ""} ${n === 1 ? "thread" : "threads"}.`
      : "You follow no threads yet: reply to a message to start one.";
    $("threads-list").replaceChildren(...this.threads.map((followed) => this.item(followed)));
    $("threads-more").hidden = !this.hasMore;
  }

  /** @param {FollowedThread} followed */
  item({ root, unread_count: unread }) {
    const room = this.chat.rooms.get(root.room_id);
    const where = room ? (room.summary.kind === "direct" ? roomLabel(room.summary) : `#${roomLabel(room.summary)}`) : "a room";
    const text = root.deleted ? "This message was deleted." : root.body.replace(/\s+/g, " ").trim();
    const replies = root.thread?.reply_count || 0;
    return h(
      "li",
      {},
      h(
        "a",
        {
          class: `search-hit thread-link${unread ? " unread" : ""}`,
          href: `#/room/${root.room_id}/thread/${root.id}`,
          dataset: { rootId: String(root.id) },
        },
        h(
          "span",
          { class: "search-meta" },
          h("span", { class: "author" }, displayName(root.author)),
          ` in ${where} `,
          h("time", { datetime: root.created_at }, formatFull(root.created_at)),
        ),
        h("span", { class: "search-snippet" }, text.length > SNIPPET_CHARS ? `${text.slice(0, SNIPPET_CHARS)}…` : text),
        h(
          "span",
          { class: "thread-counts" },
          `${replies} ${replies === 1 ? "reply" : "replies"}`,
          unread ? h("span", { class: "badge thread-unread" }, `${unread} unread`) : null,
        ),
      ),
    );
  }
}
