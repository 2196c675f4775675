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
  const dialog = $("confirm-dialog", HTMLDialogElement);
  return new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    openDialog(dialog, opener);
    $("confirm-ok").focus();
  });
}
