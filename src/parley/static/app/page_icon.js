// @ts-check
// The tab's icon and title tell of unread messages: a dot on the icon and the count in
// the title ("(3) Parley", "(3 · 1 @) Parley" when one of them mentions me) while any
// room has some, both gone once they are read.

export const COUNT = /^\(\d+(?: · \d+ @)?\) /;

/**
 * @param {number} unread
 * @param {number} [mentions]
 */
export function showUnread(unread, mentions = 0) {
  const title = document.title.replace(COUNT, "");
  const count = mentions ? `${unread} · ${mentions} @` : String(unread);
  document.title = unread || mentions ? `(${count}) ${title}` : title;
  const icon = document.getElementById("page-icon");
  if (!(icon instanceof HTMLLinkElement)) return;
  icon.dataset.readHref ??= icon.getAttribute("href") ?? "";
  const href = unread || mentions ? icon.dataset.unreadHref : icon.dataset.readHref;
  if (href && icon.getAttribute("href") !== href) icon.setAttribute("href", href);
}
