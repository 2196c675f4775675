// @ts-check
// The message list by keyboard: one tab stop for the whole list (the message last
// focused, else the newest), arrow keys, Home and End move between messages, Enter or
// the context-menu key opens a message's controls (its links, then its actions, such as
// edit and delete), arrows move among them and Escape goes back to the message.

/** @param {HTMLElement} li */
const keyOf = (li) => li.dataset.id || `pending:${li.dataset.clientId ?? ""}`;

/** @param {HTMLElement} li */
// The message's own links and actions first, its author's card last (the author comes
// first in the document, and querySelectorAll keeps document order).
const controlsOf = (li) =>
  /** @type {HTMLElement[]} */ ([
    ...li.querySelectorAll(".message-body a[href], .send-failed button, .message-main .edited, .reactions button, .message-actions button"),
    ...li.querySelectorAll(".message-meta button[data-profile]"),
  ]);

/** @param {HTMLElement} list the <ol> of messages */
export function bindMessageKeys(list) {
  /** @type {string | null} */
  let current = null;
  const messages = () => /** @type {HTMLElement[]} */ ([...list.querySelectorAll(":scope > li.message")]);

  // Exactly one message is tabbable, and nothing inside any: drawn again after each change.
  const rove = () => {
    const all = messages();
    const holder = all.find((li) => keyOf(li) === current) ?? all[all.length - 1];
    for (const li of all) {
      li.tabIndex = li === holder ? 0 : -1;
      if (li === holder) li.setAttribute("aria-describedby", "message-keys-hint");
      else li.removeAttribute("aria-describedby");
    }
    for (const li of all) for (const control of controlsOf(li)) control.tabIndex = -1;
  };
  new MutationObserver(rove).observe(list, { childList: true, subtree: true });

  list.addEventListener("focusin", (event) => {
    const li = event.target instanceof Element ? event.target.closest("li.message") : null;
    if (!(li instanceof HTMLElement) || keyOf(li) === current) return;
    current = keyOf(li);
    rove();
  });

  list.addEventListener("keydown", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement) || event.altKey || event.ctrlKey || event.metaKey) return;
    const li = target.closest("li.message");
    if (!(li instanceof HTMLElement)) return;
    if (target === li) onMessageKey(event, li);
    else if (controlsOf(li).includes(target)) onControlKey(event, li, target);
  });

  /**
   * @param {KeyboardEvent} event
   * @param {HTMLElement} li
   */
  function onMessageKey(event, li) {
    const all = messages();
    const at = all.indexOf(li);
    /** @type {HTMLElement | undefined} */
    let next;
    if (event.key === "ArrowDown") next = all[at + 1];
    else if (event.key === "ArrowUp") next = all[at - 1];
    else if (event.key === "Home") next = all[0];
    else if (event.key === "End") next = all[all.length - 1];
    else if (event.key === "Enter" || event.key === "ContextMenu" || (event.key === "F10" && event.shiftKey)) {
      event.preventDefault();
      controlsOf(li)[0]?.focus();
      return;
    } else return;
    event.preventDefault();
    next?.focus();
    next?.scrollIntoView({ block: "nearest" });
  }

  /**
   * @param {KeyboardEvent} event
   * @param {HTMLElement} li
   * @param {HTMLElement} control
   */
  function onControlKey(event, li, control) {
    const controls = controlsOf(li);
    const at = controls.indexOf(control);
    if (event.key === "Escape") {
      event.preventDefault();
      li.focus();
    } else if (event.key === "ArrowRight" || event.key === "ArrowDown") {
      event.preventDefault();
      controls[(at + 1) % controls.length].focus();
    } else if (event.key === "ArrowLeft" || event.key === "ArrowUp") {
      event.preventDefault();
      controls[(at - 1 + controls.length) % controls.length].focus();
    }
  }
}
