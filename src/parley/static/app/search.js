// @ts-check
// Message search: the top bar's box (on a phone, a button) opens a dialog of results
// from GET /search, grouped by room; each opens its room at that message
// (#/room/<id>/message/<id>), which RoomView.open loads with the history around it, or
// a reply kept to its thread in that thread's panel (#/room/<id>/thread/<root>/reply/<id>).

import { api } from "./api.js";
import { openDialog } from "./dialogs.js";
import { $, displayName, formatFull, h, roomLabel } from "./dom.js";
import { messageAddress } from "./message_links.js";

/** @typedef {import("./chat.js").Chat} Chat */
/** @typedef {import("./shapes.js").Message} Message */

const SNIPPET_CHARS = 160;

export class Search {
  /** @param {Chat} chat */
  constructor(chat) {
    this.chat = chat;
    this.dialog = $("search-dialog", HTMLDialogElement);
    this.query = $("search-query", HTMLInputElement);
    this.results = $("search-results");
    this.status = $("search-status");
    /** @type {Map<number, string>} names of rooms found that the person is not in */
    this.otherRooms = new Map();
    this.asked = 0;
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const box = $("search-box", HTMLInputElement);
      this.open(box, box.value);
    });
    const button = $("search-open");
    button.addEventListener("click", () => this.open(button, ""));
    $("search-dialog-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.run(this.query.value);
    });
    // A result is a link: following it leaves the dialog for the room.
    this.results.addEventListener("click", (event) => {
      if (event.target instanceof Element && event.target.closest("a")) this.dialog.close();
    });
  }

  /**
   * @param {HTMLElement} opener
   * @param {string} text
   */
  open(opener, text) {
    this.query.value = text;
    if (!this.dialog.open) openDialog(this.dialog, opener, "search-query");
    if (text.trim()) this.run(text);
    else {
      this.results.replaceChildren();
      this.status.textContent = "";
    }
  }

  /** @param {string} text */
  async run(text) {
    const q = text.trim();
    if (!q) return;
    const asked = ++this.asked;
    this.status.textContent = "Searching…";
    this.results.replaceChildren();
    let page;
    try {
      page = await api.search(q);
      await this.nameOtherRooms(page.messages);
    } catch (err) {
      if (asked === this.asked) this.status.textContent = `The search failed: ${err.message}`;
      return;
    }
    if (asked !== this.asked) return;
    /** @type {Message[]} */
    const found = page.messages;
    this.status.textContent = found.length
      ? `${found.length}${page.has_more ? "+" : ""} ${found.length === 1 ? "message" : "messages"} found.`
      : `Nothing found for “${q}”.`;
    this.results.replaceChildren(...this.groups(found, words(q)));
  }

  // Public rooms the person reads but is not in: their names, for the group headings.
  /** @param {Message[]} found */
  async nameOtherRooms(found) {
    const unknown = new Set(found.map((m) => m.room_id).filter((id) => !this.chat.rooms.has(id) && !this.otherRooms.has(id)));
    await Promise.all(
      [...unknown].map(async (id) => {
        const room = await api.room(id);
        this.otherRooms.set(id, roomLabel(room));
      }),
    );
  }

  /**
   * One section per room, in the order of each room's newest hit.
   * @param {Message[]} found newest first
   * @param {string[]} terms
   */
  groups(found, terms) {
    /** @type {Map<number, Message[]>} */
    const byRoom = new Map();
    for (const message of found) {
      const list = byRoom.get(message.room_id) ?? [];
      list.push(message);
      byRoom.set(message.room_id, list);
    }
    return [...byRoom].map(([roomId, messages]) => {
      const room = this.chat.rooms.get(roomId);
      const joined = room !== undefined;
      const name = room ? roomLabel(room.summary) : this.otherRooms.get(roomId) ?? "room";
      const heading = room?.summary.kind === "direct" ? name : `# ${name}`;
      const headingId = `search-room-${roomId}`;
      return h(
        "section",
        { class: "search-group", "aria-labelledby": headingId },
        h("h3", { id: headingId }, heading, joined ? null : h("span", { class: "search-note" }, " (not joined: open it from Browse rooms)")),
        h(
          "ul",
          {},
          messages.map((message) =>
            h(
              "li",
              {},
              h(
                "a",
                { class: "search-hit", href: joined ? messageAddress(message) : "#/directory", dataset: { messageId: String(message.id) } },
                h(
                  "span",
                  { class: "search-meta" },
                  h("span", { class: "author" }, displayName(message.author)),
                  " ",
                  h("time", { datetime: message.created_at }, formatFull(message.created_at)),
                ),
                h("span", { class: "search-snippet" }, marked(snippet(message.body, terms), terms)),
              ),
            ),
          ),
        ),
      );
    });
  }
}

/** @param {string} q */
function words(q) {
  return q.match(/[\p{L}\p{N}_]+/gu) ?? [];
}

/** @param {string[]} terms */
function termPattern(terms) {
  const escaped = terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  // Each term matches as a word prefix, as the server's search does.
  return new RegExp(`(?<![\\p{L}\\p{N}_])(${escaped.join("|")})`, "giu");
}

// The text around the first match, cut to a line or two.
/**
 * @param {string} body
 * @param {string[]} terms
 */
function snippet(body, terms) {
  const text = body.replace(/\s+/g, " ").trim();
  if (text.length <= SNIPPET_CHARS || !terms.length) return text.slice(0, SNIPPET_CHARS);
  const first = text.search(termPattern(terms));
  const start = Math.max(0, Math.min(first - 40, text.length - SNIPPET_CHARS));
  return `${start > 0 ? "…" : ""}${text.slice(start, start + SNIPPET_CHARS)}${start + SNIPPET_CHARS < text.length ? "…" : ""}`;
}

// The text with each matching word start in <mark>.
/**
 * @param {string} text
 * @param {string[]} terms
 */
function marked(text, terms) {
  if (!terms.length) return [text];
  return text.split(termPattern(terms)).map((part, i) => (i % 2 ? h("mark", {}, part) : part));
}
