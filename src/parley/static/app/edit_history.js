// @ts-check
// A message's earlier versions (GET /messages/<id>/history), in a dialog: what it said
// before each edit, with when it was written and when it was replaced, oldest first,
// then what it says now.

import { api } from "./api.js";
import { openDialog } from "./dialogs.js";
import { $, formatFull, h } from "./dom.js";

/** @typedef {import("./shapes.js").Message} Message */

/**
 * @param {Message} message
 * @param {HTMLElement} opener
 */
export async function openEditHistory(message, opener) {
  const dialog = $("history-dialog", HTMLDialogElement);
  const list = $("history-list");
  const status = $("history-dialog-status");
  list.replaceChildren();
  status.textContent = "Loading the earlier versions…";
  openDialog(dialog, opener);
  let answer;
  try {
    answer = await api.editHistory(message.id);
  } catch (err) {
    status.textContent = `Could not load them: ${err.message}`;
    return;
  }
  /** @type {{body: string, html: string, written_at: string, replaced_at: string}[]} */
  const edits = answer.edits;
  status.textContent = edits.length
    ? `${edits.length} earlier ${edits.length === 1 ? "version" : "versions"}.`
    : "No earlier versions.";
  const items = edits.map((edit) =>
    version(`Written ${formatFull(edit.written_at)}, replaced ${formatFull(edit.replaced_at)}`, edit.written_at, edit.html),
  );
  if (!message.deleted) {
    const since = message.edited_at ?? message.created_at;
    items.push(version(`Now, since ${formatFull(since)}`, since, message.html, true));
  }
  list.replaceChildren(...items);
}

/**
 * @param {string} when
 * @param {string} iso
 * @param {string} html rendered and sanitized by the server
 * @param {boolean} [current]
 */
function version(when, iso, html, current = false) {
  const body = h("div", { class: "message-body" });
  body.innerHTML = html;
  return h(
    "li",
    { class: `history-version${current ? " current" : ""}` },
    h("time", { class: "history-when", datetime: iso }, when),
    body,
  );
}
