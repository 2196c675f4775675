// @ts-check
// A notice on the page that stays until dismissed, for what happened to the reader
// without their doing (removed or banned from the room they had open); screen readers
// hear it through its status role.

import { $ } from "./dom.js";

let bound = false;

/** @param {string} text */
export function showNotice(text) {
  const notice = $("page-notice");
  if (!bound) {
    bound = true;
    $("page-notice-close").addEventListener("click", () => {
      notice.hidden = true;
      $("main").focus();
    });
  }
  $("page-notice-text").textContent = text;
  notice.hidden = false;
}
