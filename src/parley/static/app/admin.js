// @ts-check
// The admin console (templates/admin.html): users, rooms, live broadcasts and the server's
// status, over /api/v1/admin and the same user routes any API client uses.

// First, so the theme is set before anything else draws.
import "./theme.js";
import { ApiError, request, setCsrfToken } from "./api.js";
import { bindCloseButtons, openDialog } from "./dialogs.js";
import { $, h } from "./dom.js";

/** @typedef {import("./shapes.js").User & {role: string, active: boolean, last_seen_at: string | null}} AdminUser */
/**
 * @typedef {{id: number, name: string, kind: string, archived: boolean, member_count: number,
 *   live: {broadcaster: {username: string, display_name: string}, started_at: string, viewers: number} | null}} AdminRoom
 */

const VIEWS = ["users", "rooms", "live", "status"];
/** @type {number} */
let myId = 0;
/** @type {string[]} */
let roles = [];

async function boot() {
  bindCloseButtons();
  try {
    const session = await request("GET", "/auth/session");
    setCsrfToken(session.csrf_token);
    myId = session.user.id;
  } catch (err) {
    failed(err);
    return;
  }
  $("users-search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadUsers();
  });
  $("rooms-search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadRooms();
  });
  $("live-refresh").addEventListener("click", loadLive);
  $("status-refresh").addEventListener("click", loadStatus);
  $("role-form").addEventListener("submit", saveRole);
  $("password-copy").addEventListener("click", () => {
    navigator.clipboard?.writeText($("password-value").textContent || "").then(
      () => announce("Password copied."),
      () => announce("Copying failed: select the password and copy it."),
    );
  });
  window.addEventListener("hashchange", route);
  route();
}

function route() {
  const name = location.hash.replace(/^#\//, "");
  const view = VIEWS.includes(name) ? name : "users";
  for (const other of VIEWS) {
    $(`${other}-view`).hidden = other !== view;
    const tab = $(`tab-${other}`);
    if (other === view) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  document.title = `${$(`${view}-title`).textContent} · Administration · Parley`;
  showError("");
  if (view === "users") loadUsers();
  else if (view === "rooms") loadRooms();
  else if (view === "live") loadLive();
  else loadStatus();
}

// --- users ------------------------------------------------------------------------------

// After a change redraws the list, focus goes to this button of the changed row (its
// `data-action`), since the one that was pressed is gone.
/** @param {{userId: number, action: string}} [focus] */
async function loadUsers(focus) {
  const q = $("users-search", HTMLInputElement).value.trim();
  const status = $("users-status");
  status.textContent = "Loading…";
  try {
    const body = await request("GET", `/admin/users?${new URLSearchParams({ q })}`);
    roles = body.roles;
    renderUsers(body.users);
    status.textContent = countText(body.users.length, "user", "users");
    if (focus) {
      const button = document.querySelector(`#users-body tr[data-user-id="${focus.userId}"] button[data-action="${focus.action}"]`);
      if (button instanceof HTMLElement) button.focus();
    }
  } catch (err) {
    status.textContent = "";
    failed(err);
  }
}

/** @param {AdminUser[]} users */
function renderUsers(users) {
  const rows = users.map((user) => {
    const you = user.id === myId;
    const name = user.display_name || user.username;
    return h(
      "tr",
      { dataset: { userId: String(user.id) } },
      h("td", { "data-label": "User" }, h("span", { class: "who" }, h("strong", {}, name, you ? " (you)" : ""), h("small", {}, `@${user.username}`))),
      h("td", { "data-label": "Role" }, user.role),
      h("td", { "data-label": "State" }, stateTag(user.active, "Active", "Deactivated")),
      h("td", { "data-label": "Last seen" }, user.last_seen_at ? when(user.last_seen_at) : "Never"),
      h(
        "td",
        {},
        h(
          "span",
          { class: "actions" },
          h("button", { type: "button", class: "ghost small", "data-action": "role", "aria-label": `Change role of ${name}`, onclick: (/** @type {Event} */ e) => openRole(user, /** @type {HTMLElement} */ (e.currentTarget)) }, "Role"),
          you
            ? null
            : user.active
              ? h("button", { type: "button", class: "ghost small", "data-action": "deactivate", "aria-label": `Deactivate ${name}`, onclick: (/** @type {Event} */ e) => deactivate(user, /** @type {HTMLElement} */ (e.currentTarget)) }, "Deactivate")
              : h("button", { type: "button", class: "ghost small", "data-action": "reactivate", "aria-label": `Reactivate ${name}`, onclick: () => setActive(user, true) }, "Reactivate"),
          you ? null : h("button", { type: "button", class: "ghost small", "aria-label": `Reset password of ${name}`, onclick: (/** @type {Event} */ e) => resetPassword(user, /** @type {HTMLElement} */ (e.currentTarget)) }, "Reset password"),
        ),
      ),
    );
  });
  $("users-body").replaceChildren(...(rows.length ? rows : [emptyRow(5, "No users match.")]));
}

/** @type {AdminUser | null} */
let roleUser = null;

/**
 * @param {AdminUser} user
 * @param {HTMLElement} opener
 */
function openRole(user, opener) {
  roleUser = user;
  $("role-dialog-user").textContent = `${user.display_name || user.username} (@${user.username}) is ${user.role}.`;
  const select = $("role-select", HTMLSelectElement);
  select.replaceChildren(...roles.map((role) => h("option", { value: role, selected: role === user.role }, role)));
  openDialog($("role-dialog", HTMLDialogElement), opener, "role-select");
}

/** @param {SubmitEvent} event */
async function saveRole(event) {
  event.preventDefault();
  if (!roleUser) return;
  const role = $("role-select", HTMLSelectElement).value;
  try {
    await request("PATCH", `/users/${roleUser.id}`, { role });
    $("role-dialog", HTMLDialogElement).close();
    announce(`${roleUser.username} is now ${role}.`);
    loadUsers({ userId: roleUser.id, action: "role" });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) failed(err);
    else $("role-error").textContent = err.message;
  }
}

/**
 * @param {AdminUser} user
 * @param {HTMLElement} opener
 */
async function deactivate(user, opener) {
  const ok = await confirmAction(
    opener,
    `Deactivate ${user.username}?`,
    "They are logged out everywhere at once, and cannot log in until reactivated. Their messages stay.",
    "Deactivate",
  );
  if (ok) setActive(user, false);
}

/**
 * @param {AdminUser} user
 * @param {boolean} active
 */
async function setActive(user, active) {
  try {
    await request("PATCH", `/users/${user.id}`, { active });
    announce(`${user.username} is ${active ? "active again" : "deactivated"}.`);
    loadUsers({ userId: user.id, action: active ? "deactivate" : "reactivate" });
  } catch (err) {
    failed(err);
  }
}

/**
 * @param {AdminUser} user
 * @param {HTMLElement} opener
 */
async function resetPassword(user, opener) {
  const ok = await confirmAction(
    opener,
    `Reset the password of ${user.username}?`,
    "They get a new random password, which you see once. Every session and token of theirs ends now.",
    "Reset password",
  );
  if (!ok) return;
  try {
    const body = await request("POST", `/admin/users/${user.id}/password`);
    $("password-dialog-text").textContent = `The new password of ${user.username}:`;
    $("password-value").textContent = body.password;
    openDialog($("password-dialog", HTMLDialogElement), opener);
  } catch (err) {
    failed(err);
  }
}

// --- rooms ------------------------------------------------------------------------------

/** @param {number} [focusRoomId] a room whose archive button takes the focus once redrawn */
async function loadRooms(focusRoomId) {
  const q = $("rooms-search", HTMLInputElement).value.trim();
  const status = $("rooms-status");
  status.textContent = "Loading…";
  try {
    const body = await request("GET", `/admin/rooms?${new URLSearchParams({ q })}`);
    renderRooms(body.rooms);
    status.textContent = countText(body.rooms.length, "room", "rooms");
    if (focusRoomId !== undefined) {
      const button = document.querySelector(`#rooms-body tr[data-room-id="${focusRoomId}"] button`);
      if (button instanceof HTMLElement) button.focus();
    }
  } catch (err) {
    status.textContent = "";
    failed(err);
  }
}

/** @param {AdminRoom[]} rooms */
function renderRooms(rooms) {
  const rows = rooms.map((room) =>
    h(
      "tr",
      { dataset: { roomId: String(room.id) } },
      h("td", { "data-label": "Room" }, h("strong", {}, room.name)),
      h("td", { "data-label": "Kind" }, room.kind === "private" ? "Private" : "Public"),
      h("td", { "data-label": "Members" }, String(room.member_count)),
      h("td", { "data-label": "State" }, stateTag(!room.archived, room.live ? "Live" : "Open", "Archived")),
      h(
        "td",
        {},
        h(
          "span",
          { class: "actions" },
          h(
            "button",
            { type: "button", class: "ghost small", "aria-label": `${room.archived ? "Unarchive" : "Archive"} ${room.name}`, onclick: () => setArchived(room, !room.archived) },
            room.archived ? "Unarchive" : "Archive",
          ),
        ),
      ),
    ),
  );
  $("rooms-body").replaceChildren(...(rows.length ? rows : [emptyRow(5, "No rooms match.")]));
}

/**
 * @param {AdminRoom} room
 * @param {boolean} archived
 */
async function setArchived(room, archived) {
  try {
    await request("PATCH", `/admin/rooms/${room.id}`, { archived });
    announce(`${room.name} is ${archived ? "archived" : "open again"}.`);
    loadRooms(room.id);
  } catch (err) {
    failed(err);
  }
}

// --- live broadcasts --------------------------------------------------------------------

async function loadLive() {
  const status = $("live-status");
  status.textContent = "Loading…";
  try {
    const body = await request("GET", "/admin/live");
    renderLive(body.rooms);
    status.textContent = body.rooms.length ? countText(body.rooms.length, "room is live", "rooms are live") : "No room is live.";
  } catch (err) {
    status.textContent = "";
    failed(err);
  }
}

/** @param {AdminRoom[]} rooms */
function renderLive(rooms) {
  const rows = rooms.flatMap((room) => {
    const live = room.live;
    if (!live) return [];
    return [
      h(
        "tr",
        { dataset: { roomId: String(room.id) } },
        h("td", { "data-label": "Room" }, h("strong", {}, room.name)),
        h("td", { "data-label": "Broadcaster" }, live.broadcaster.display_name || live.broadcaster.username),
        h("td", { "data-label": "Since" }, when(live.started_at)),
        h("td", { "data-label": "Viewers" }, String(live.viewers)),
        h(
          "td",
          {},
          h(
            "span",
            { class: "actions" },
            h("button", { type: "button", class: "ghost small", "aria-label": `End the broadcast in ${room.name}`, onclick: (/** @type {Event} */ e) => endLive(room, /** @type {HTMLElement} */ (e.currentTarget)) }, "End"),
          ),
        ),
      ),
    ];
  });
  $("live-body").replaceChildren(...(rows.length ? rows : [emptyRow(5, "Nothing is live.")]));
}

/**
 * @param {AdminRoom} room
 * @param {HTMLElement} opener
 */
async function endLive(room, opener) {
  const ok = await confirmAction(opener, `End the broadcast in ${room.name}?`, "Its viewers see it end at once.", "End broadcast");
  if (!ok) return;
  try {
    await request("DELETE", `/admin/rooms/${room.id}/live`);
    announce(`The broadcast in ${room.name} ended.`);
  } catch (err) {
    // Ended meanwhile: the list below shows it gone.
    if (!(err instanceof ApiError && err.code === "not_live")) failed(err);
  }
  loadLive();
}

// --- status -----------------------------------------------------------------------------

async function loadStatus() {
  try {
    const status = await request("GET", "/admin/status");
    /** @type {[string, string][]} */
    const items = [
      ["Version", status.version],
      ["Database", `${status.database_kind}: ${status.database === "ok" ? "reachable" : "unreachable"}`],
      ["Message queue", status.message_queue === "not configured" ? "not configured (one process)" : status.message_queue === "ok" ? "reachable" : "unreachable"],
      ["Sockets connected", `${status.sockets_connected} (this process)`],
      ["Uptime", duration(status.uptime_seconds)],
    ];
    $("status-list").replaceChildren(...items.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
  } catch (err) {
    failed(err);
  }
}

// --- shared -----------------------------------------------------------------------------

/**
 * @param {HTMLElement} opener
 * @param {string} title
 * @param {string} text
 * @param {string} okLabel
 * @returns {Promise<boolean>}
 */
function confirmAction(opener, title, text, okLabel) {
  const dialog = $("admin-confirm-dialog", HTMLDialogElement);
  $("admin-confirm-title").textContent = title;
  $("admin-confirm-text").textContent = text;
  $("admin-confirm-ok").textContent = okLabel;
  return new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    openDialog(dialog, opener, "admin-confirm-ok");
  });
}

/** @param {Error} err */
function failed(err) {
  // The session ended (logged out, or this account lost its role): back to the chat's login.
  // A 404 with no details is every admin route's answer to someone no longer an administrator.
  const lostRole = err instanceof ApiError && err.status === 404 && Object.keys(err.details).length === 0;
  if ((err instanceof ApiError && err.status === 401) || lostRole) {
    location.assign("/");
    return;
  }
  showError(err.message);
}

/** @param {string} text */
function showError(text) {
  $("admin-error").textContent = text;
}

/** @param {string} text */
function announce(text) {
  const region = $("admin-announcer");
  region.textContent = "";
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

/**
 * @param {boolean} on
 * @param {string} onText
 * @param {string} offText
 */
function stateTag(on, onText, offText) {
  return h("span", { class: `state ${on ? "on" : "off"}` }, on ? onText : offText);
}

/**
 * @param {number} columns
 * @param {string} text
 */
function emptyRow(columns, text) {
  return h("tr", {}, h("td", { class: "empty", colspan: columns }, text));
}

/**
 * @param {number} count
 * @param {string} one
 * @param {string} many
 */
function countText(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

/** @param {string} iso */
function when(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** @param {number} seconds */
function duration(seconds) {
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days) return `${days} d ${hours} h`;
  if (hours) return `${hours} h ${minutes} min`;
  if (minutes) return `${minutes} min`;
  return `${seconds} s`;
}

boot();
