// @ts-check
// Modal dialogs on <dialog>: the browser traps focus and closes on Escape; focus goes
// back to the control that opened the dialog.

import { $ } from "./dom.js";

/**
 * @param {HTMLDialogElement} dialog
 * @param {HTMLElement | null} opener the control focus goes back to
 * @param {string} [focusId]
 */
export function openDialog(dialog, opener, focusId) {
  for (const error of dialog.querySelectorAll(".form-error")) error.textContent = "";
  dialog.showModal();
  if (focusId) $(focusId).focus();
  dialog.addEventListener(
    "close",
    () => {
      // The opener may be gone or hidden once the dialog took the user elsewhere.
      if (opener?.isConnected && opener.getClientRects().length) opener.focus();
    },
    { once: true },
  );
}

export function bindCloseButtons() {
  for (const button of document.querySelectorAll("dialog [data-close]")) {
    button.addEventListener("click", () => button.closest("dialog")?.close());
  }
}

/**
 * @param {HTMLElement} opener
 * @returns {Promise<boolean>}
 */
export function confirmDelete(opener) {
  return confirmAction(opener, {
    title: "Delete this message?",
    text: "It will be replaced by a note that it was deleted, for everyone.",
    ok: "Delete",
  });
}

/**
 * Asks before something that cannot be taken back; resolves whether it was confirmed.
 * @param {HTMLElement} opener
 * @param {{title: string, text: string, ok: string}} words
 * @returns {Promise<boolean>}
 */
export function confirmAction(opener, { title, text, ok }) {
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = ok;
  const dialog = $("confirm-dialog", HTMLDialogElement);
  return new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    openDialog(dialog, opener);
    $("confirm-ok").focus();
  });
}
