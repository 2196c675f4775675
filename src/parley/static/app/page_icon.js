// @ts-check
// The tab's icon and title tell of unread messages: a dot on the icon and the count in
// the title ("(3) Parley") while any room has some, both gone once they are read.

const COUNT = /^\(\d+\) /;

/** @param {number} unread */
export function showUnread(unread) {
  const title = document.title.replace(COUNT, "");
  document.title = unread ? `(${unread}) ${title}` : title;
  const icon = document.getElementById("page-icon");
  if (!(icon instanceof HTMLLinkElement)) return;
  icon.dataset.readHref ??= icon.getAttribute("href") ?? "";
  const href = unread ? icon.dataset.unreadHref : icon.dataset.readHref;
  if (href && icon.getAttribute("href") !== href) icon.setAttribute("href", href);
}
