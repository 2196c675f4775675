// @ts-check
// Emoji: the picker (emoji-picker-element, in a dialog) and the search behind the
// composer's `:` suggestions, both on the English emoji data this server serves from its
// vendor folder (never fetched from another site).

import Database from "../vendor/emoji-picker-element/database.js";
import { openDialog } from "./dialogs.js";
import { $ } from "./dom.js";

const DATA_SOURCE = new URL("../vendor/emoji-picker-element/data.json", import.meta.url).href;

/** @type {Database | null} */
let database = null;
/** @type {Promise<HTMLElement> | null} the picker, made once even if asked for twice while it loads */
let picker = null;
/** @type {string | null} the emoji clicked in the open picker */
let chosen = null;

function db() {
  database ??= new Database({ dataSource: DATA_SOURCE, locale: "en" });
  return database;
}

/**
 * Emoji whose names or shortcodes start with the words typed, best first.
 * @param {string} query
 * @param {number} [limit]
 * @returns {Promise<{unicode: string, shortcode: string}[]>}
 */
export async function searchEmoji(query, limit = 8) {
  // A search needs no reopening of its own: when the picker closes the IndexedDB
  // connection they share, emoji-picker-element resets every Database of that name, and
  // the next query opens it again. A query that fails anyway shows no suggestions.
  const found = await db().getEmojiBySearchQuery(query);
  /** @type {{unicode: string, shortcode: string}[]} */
  const out = [];
  const q = query.toLowerCase();
  for (const emoji of found) {
    if (!("unicode" in emoji)) continue;
    const codes = emoji.shortcodes ?? [];
    const shortcode = codes.find((c) => c.startsWith(q)) ?? codes[0] ?? emoji.annotation;
    out.push({ unicode: emoji.unicode, shortcode });
  }
  // Shortcodes that start with what was typed before those that only match a word.
  out.sort((a, b) => Number(!a.shortcode.startsWith(q)) - Number(!b.shortcode.startsWith(q)));
  return out.slice(0, limit);
}

// The picker lays itself out (its columns, the place of its tab indicator) through style
// attributes that it sets from script, which the page's CSP (style-src 'self') refuses
// as inline style. Set inside the picker, or on a node not yet in the page (its
// templates are filled in before they are inserted), such a style goes through the
// CSSOM instead, which the CSP allows; the page's own code never sets one. Styles in the
// HTML the server sends stay refused.
function styleThroughCssom() {
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    const root = this.getRootNode();
    const inPicker = root instanceof ShadowRoot && root.host.localName === "emoji-picker";
    if (name === "style" && this instanceof HTMLElement && (inPicker || !this.isConnected)) {
      this.style.cssText = String(value);
      return;
    }
    setAttribute.call(this, name, value);
  };
}

// The picker writes its styles into a <style> element of its own, which the CSP refuses
// too: they are moved into a constructed style sheet, which it allows, before the
// picker is put into the page.
async function makePicker() {
  styleThroughCssom();
  const { default: Picker } = await import("../vendor/emoji-picker-element/picker.js");
  const element = new Picker({ dataSource: DATA_SOURCE, locale: "en" });
  const root = element.shadowRoot;
  const style = root?.querySelector("style");
  if (root && style) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(style.textContent ?? "");
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    style.remove();
  }
  element.addEventListener("emoji-click", (event) => {
    const unicode = event.detail.unicode;
    if (!unicode) return;
    chosen = unicode;
    $("emoji-dialog", HTMLDialogElement).close();
  });
  element.classList.add("emoji-picker");
  return element;
}

/**
 * Opens the picker; resolves the emoji chosen, or null when it is closed without one.
 * It resolves once the dialog has closed and given the focus back to its opener, so the
 * caller may then move the focus (to the message box, to the new reaction).
 * @param {HTMLElement | null} opener
 * @param {string} title
 * @returns {Promise<string | null>}
 */
export async function pickEmoji(opener, title) {
  const dialog = $("emoji-dialog", HTMLDialogElement);
  if (dialog.open) dialog.close();
  $("emoji-dialog-title").textContent = title;
  picker ??= makePicker().then(
    (element) => {
      $("emoji-picker-slot").append(element);
      return element;
    },
    (error) => {
      picker = null; // a failed load (a dropped connection) is tried again next time
      throw error;
    },
  );
  const element = await picker;
  chosen = null;
  return new Promise((resolve) => {
    openDialog(dialog, opener);
    // After openDialog's own close listener, which focuses the opener.
    dialog.addEventListener("close", () => resolve(chosen), { once: true });
    // The picker's own search box, inside its shadow root.
    const search = element.shadowRoot?.querySelector("input");
    if (search instanceof HTMLElement) search.focus();
  });
}
