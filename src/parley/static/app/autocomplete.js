// @ts-check
// The composer's suggestions: `:smi` lists emoji, `@bo` lists the room's members (and
// @room and @here where one may call them). The message box stays the focus; the list
// is a listbox it controls, its active option named by aria-activedescendant. Arrow
// keys move, Enter or Tab inserts, Escape closes.

import { displayName, h } from "./dom.js";
import { searchEmoji } from "./emoji.js";

/** @typedef {{id: string, label: string, detail: string, insert: string}} Suggestion */

// What is being typed: a `:` word of two characters or more, or an `@` word, right
// before the caret, at the start or after a space or an opening bracket.
const TRIGGER = /(?:^|[\s([{])([:@])([\p{L}\p{N}_+.-]*)$/u;
const MAX = 8;

export class Autocomplete {
  /**
   * @param {HTMLTextAreaElement} input
   * @param {HTMLElement} list
   * @param {{people: () => {username: string, name: string}[], callWords: () => string[]}} source
   */
  constructor(input, list, source) {
    this.input = input;
    this.list = list;
    this.source = source;
    /** @type {Suggestion[]} */
    this.items = [];
    this.active = 0;
    /** @type {{start: number, end: number} | null} the word being replaced */
    this.word = null;
    this.asked = 0;
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.addEventListener("input", () => this.update());
    input.addEventListener("click", () => this.update());
    // Late, so a click on an option lands first; not at all if the box has the focus
    // back by then (a blur and a focus in quick turn must not drop what is being typed).
    input.addEventListener("blur", () =>
      setTimeout(() => {
        if (document.activeElement !== input) this.close();
      }, 150),
    );
    input.addEventListener("keydown", (event) => this.onKey(event));
    // A click picks an option without taking the focus from the box.
    list.addEventListener("mousedown", (event) => event.preventDefault());
    list.addEventListener("click", (event) => {
      const option = event.target instanceof Element ? event.target.closest("[role=option]") : null;
      if (option instanceof HTMLElement) this.choose(Number(option.dataset.index));
    });
  }

  get open() {
    return !this.list.hidden;
  }

  async update() {
    const input = this.input;
    const caret = input.selectionStart ?? 0;
    if (caret !== input.selectionEnd) return this.close();
    const match = input.value.slice(0, caret).match(TRIGGER);
    if (!match) return this.close();
    const [, sign, typed] = match;
    const start = caret - typed.length - 1;
    const asked = ++this.asked;
    /** @type {Suggestion[]} */
    let items;
    if (sign === ":") {
      if (typed.length < 2) return this.close();
      const found = await searchEmoji(typed, MAX).catch(() => []);
      items = found.map((e, i) => ({
        id: `suggestion-${i}`,
        label: `${e.unicode} :${e.shortcode}:`,
        detail: "",
        insert: e.unicode,
      }));
    } else {
      const q = typed.toLowerCase();
      const people = this.source
        .people()
        .filter((p) => p.username.toLowerCase().startsWith(q) || p.name.toLowerCase().split(/\s+/).some((w) => w.startsWith(q)))
        .sort((a, b) => a.username.localeCompare(b.username))
        .map((p) => ({ label: `@${p.username}`, detail: p.name, insert: `@${p.username}` }));
      const calls = this.source
        .callWords()
        .filter((w) => w.startsWith(q))
        .map((w) => ({ label: `@${w}`, detail: w === "room" ? "everyone in the room" : "everyone online here", insert: `@${w}` }));
      items = [...people, ...calls].slice(0, MAX).map((s, i) => ({ ...s, id: `suggestion-${i}` }));
    }
    if (asked !== this.asked) return;
    if (!items.length) return this.close();
    this.word = { start, end: caret };
    this.items = items;
    this.active = 0;
    this.render(sign === ":" ? "Emoji" : "People");
  }

  /** @param {string} kind */
  render(kind) {
    this.list.setAttribute("aria-label", `${kind} suggestions`);
    this.list.replaceChildren(
      ...this.items.map((item, i) =>
        h(
          "li",
          { role: "option", id: item.id, "aria-selected": String(i === this.active), dataset: { index: String(i) } },
          h("span", { class: "suggestion-label" }, item.label),
          item.detail ? h("span", { class: "suggestion-detail" }, ` ${item.detail}`) : null,
        ),
      ),
    );
    this.list.hidden = false;
    this.input.setAttribute("aria-activedescendant", this.items[this.active].id);
  }

  close() {
    this.asked += 1;
    if (!this.open) return;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.items = [];
    this.word = null;
    this.input.removeAttribute("aria-activedescendant");
  }

  /** @param {number} delta */
  move(delta) {
    const count = this.items.length;
    this.active = (this.active + delta + count) % count;
    for (const option of this.list.querySelectorAll("[role=option]")) {
      const on = Number(/** @type {HTMLElement} */ (option).dataset.index) === this.active;
      option.setAttribute("aria-selected", String(on));
      if (on) option.scrollIntoView({ block: "nearest" });
    }
    this.input.setAttribute("aria-activedescendant", this.items[this.active].id);
  }

  /** @param {number} index */
  choose(index) {
    const item = this.items[index];
    const word = this.word;
    if (!item || !word) return;
    const value = this.input.value;
    const after = value.slice(word.end);
    const text = item.insert + (after.startsWith(" ") ? "" : " ");
    this.input.value = value.slice(0, word.start) + text + after;
    const caret = word.start + text.length;
    this.input.setSelectionRange(caret, caret);
    this.close();
    this.input.focus();
    this.input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  /** @param {KeyboardEvent} event */
  onKey(event) {
    if (!this.open || event.isComposing) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      this.move(event.key === "ArrowDown" ? 1 : -1);
    } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      event.preventDefault();
      this.choose(this.active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      this.close();
    }
  }
}

/**
 * The people of a room as suggestions: its members, but not me.
 * @param {Iterable<import("./shapes.js").Member>} members
 * @param {number} meId
 */
export function peopleOf(members, meId) {
  return [...members]
    .filter((m) => !m.banned && m.user.id !== meId)
    .map((m) => ({ username: m.user.username, name: displayName(m.user) }));
}
