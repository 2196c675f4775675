// @ts-check
// Boot: find out who is logged in, then show the login screen or the chat.

// First, so the theme is set before anything else draws.
import "./theme.js";
import { ApiError, api, setCsrfToken } from "./api.js";
import { bindAppearance } from "./appearance.js";
import { Chat } from "./chat.js";
import { bindCloseButtons } from "./dialogs.js";
import { Directory } from "./directory.js";
import { fieldMessage } from "./errors.js";
import { $, avatar, displayName } from "./dom.js";
import { bindStrengthMeter } from "./password_strength.js";
import { followPeople } from "./people.js";
import { bindProfile } from "./profile.js";
import { bindProfileCard } from "./profile_card.js";
import { RoomView } from "./room_view.js";
import { Moderation } from "./moderation.js";
import { showNotice } from "./notices.js";
import { RoomAdmin } from "./room_admin.js";
import { Search } from "./search.js";
import { Mentions } from "./mentions.js";
import { ThreadPanel, ThreadsView } from "./threads.js";
import { Notifier } from "./notifications.js";
import { Pins } from "./pins.js";
import { openSettings, refreshSessions } from "./settings.js";
import { renderSidebar } from "./sidebar.js";
import { bindSkipLink } from "./skip_link.js";
import { VideoPanel } from "./video.js";

/** @typedef {{user: import("./shapes.js").User, csrf_token: string, must_enrol_2fa?: boolean}} Session */

// Made once the session is known (startChat), before anything that uses them runs.
/** @type {Chat} */
let chat;
/** @type {RoomView} */
let roomView;
/** @type {ThreadPanel} */
let threadPanel;
/** @type {Directory} */
let directory;
/** @type {VideoPanel} */
let videoPanel;
/** @type {RoomAdmin} */
let roomAdmin;
/** @type {Notifier} */
let notifier;
/** @type {number | null} */
let activeRoomId = null;

async function boot() {
  bindCloseButtons();
  bindAppearance();
  bindSkipLink();
  bindAuthScreen();
  try {
    const session = await api.session();
    await enter(session);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showAuth();
    else showFatal(err);
  }
}

// --- logging in -------------------------------------------------------------------------

/** @param {string} [message] */
function showAuth(message) {
  $("app-screen").hidden = true;
  $("auth-screen").hidden = false;
  document.title = "Log in · Parley";
  if (message) $("login-error").textContent = message;
  $("login-username", HTMLInputElement).focus();
}

/** @param {Error} err */
function showFatal(err) {
  showAuth(`The server did not answer as expected (${err.message}). Reload to try again.`);
}

function bindAuthScreen() {
  const tabs = [$("tab-login"), $("tab-register")];
  const select = (/** @type {HTMLElement} */ tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls") ?? "").hidden = !on;
    }
    tab.focus();
  };
  for (const tab of tabs) {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        select(tabs[(tabs.indexOf(tab) + 1) % tabs.length]);
      }
    });
  }
  $("login-form", HTMLFormElement).addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = $("login-username", HTMLInputElement).value.trim();
    const password = $("login-password", HTMLInputElement).value;
    const askingCode = !$("login-code-row").hidden;
    const code = $("login-code", HTMLInputElement).value.trim();
    if (!username || !password) {
      $("login-error").textContent = "Enter your username and password.";
      return;
    }
    if (askingCode && !code) {
      $("login-error").textContent = "Enter the code from your authenticator app.";
      return;
    }
    await submitAuth(event.submitter, $("login-error"), () => api.login(username, password, askingCode ? code : undefined));
  });
  bindStrengthMeter({
    input: $("register-password", HTMLInputElement),
    username: $("register-username", HTMLInputElement),
    displayName: $("register-display-name", HTMLInputElement),
    meter: $("register-password-meter"),
    hint: $("register-password-hint"),
  });
  // A refusal speaks of the password that was sent, not of the one being typed.
  $("register-password", HTMLInputElement).addEventListener("input", () => {
    $("register-error").textContent = "";
  });
  $("register-form", HTMLFormElement).addEventListener("submit", async (event) => {
    event.preventDefault();
    /** @type {Record<string, string>} */
    const fields = {
      username: $("register-username", HTMLInputElement).value.trim(),
      password: $("register-password", HTMLInputElement).value,
    };
    const displayNameValue = $("register-display-name", HTMLInputElement).value.trim();
    if (displayNameValue) fields.display_name = displayNameValue;
    await submitAuth(event.submitter, $("register-error"), () => api.register(fields));
  });
}

/**
 * @param {HTMLElement | null} button
 * @param {HTMLElement} errorEl
 * @param {() => Promise<any>} call
 */
async function submitAuth(button, errorEl, call) {
  errorEl.textContent = "";
  if (button instanceof HTMLButtonElement) button.disabled = true;
  try {
    const session = await call();
    for (const form of [$("login-form", HTMLFormElement), $("register-form", HTMLFormElement)]) form.reset();
    $("login-code-row").hidden = true;
    await enter(session);
  } catch (err) {
    errorEl.textContent = authMessage(err);
  } finally {
    if (button instanceof HTMLButtonElement) button.disabled = false;
  }
}

// The server asks an account with two-factor authentication for its code: show the field.
/** @param {import("./api.js").ApiError} err */
function authMessage(err) {
  if (err.code === "totp_required" || err.code === "totp_invalid") {
    $("login-code-row").hidden = false;
    $("login-code", HTMLInputElement).value = "";
    $("login-code", HTMLInputElement).focus();
    return err.code === "totp_required"
      ? "Enter the code from your authenticator app (or a recovery code)."
      : "That code is wrong or was already used. Try the next one.";
  }
  if (err.status === 401) return "Wrong username or password.";
  // The server's reason, then zxcvbn's suggestions: what to change, not just "no".
  if (err.code === "weak_password") {
    return [err.message, ...(err.details.suggestions || [])].join(" ");
  }
  return fieldMessage(err);
}

// An administrator whose server requires two-factor authentication may only enrol.
/** @param {Session} session */
async function enter(session) {
  setCsrfToken(session.csrf_token);
  const status = await api.twoFactor();
  if (status.required && !status.enabled) {
    $("auth-screen").hidden = true;
    document.title = "Set up two-factor authentication · Parley";
    const dialog = $("settings-dialog", HTMLDialogElement);
    dialog.addEventListener("close", () => location.reload(), { once: true });
    openSettings(null, {
      enrolOnly: true,
      notice: "This server requires administrators to use two-factor authentication. Set it up to continue.",
      enabled: () => {
        $("settings-notice").textContent = "Done. Keep your recovery codes, then close this to continue.";
      },
    });
    return;
  }
  startChat(session);
}

// --- the chat ---------------------------------------------------------------------------

/** @param {Session} session */
function startChat(session) {
  setCsrfToken(session.csrf_token);
  $("auth-screen").hidden = true;
  $("app-screen").hidden = false;
  chat = new Chat(session.user);
  renderMe();
  roomView = new RoomView(chat, announce);
  threadPanel = new ThreadPanel(chat, roomView, announce);
  roomView.onOpenThread = (rootId, opener) => {
    if (activeRoomId !== null) threadPanel.open(activeRoomId, rootId, opener);
  };
  videoPanel = new VideoPanel(chat);
  roomAdmin = new RoomAdmin(chat, () => activeRoomId);
  new Moderation(chat, announce);
  new Search(chat);
  new Mentions(chat);
  new ThreadsView(chat);
  new Pins(chat, () => activeRoomId);
  notifier = new Notifier(chat, () => activeRoomId, () => (threadPanel.isOpen ? threadPanel.rootId : null));
  const openRoom = (/** @type {number} */ roomId) => {
    location.hash = `#/room/${roomId}`;
  };
  directory = new Directory(chat, openRoom);
  followPeople(chat);
  bindProfile(chat, refreshSessions);
  bindProfileCard(chat, openRoom, (opener) => openSettings(opener));
  chat.addEventListener("rooms", () => renderSidebar(chat, activeRoomId));
  chat.addEventListener("presence", () => renderSidebar(chat, activeRoomId));
  chat.addEventListener("me", renderMe);
  chat.addEventListener("connection", ({ detail }) => renderConnection(detail.state));
  chat.addEventListener("signedout", ({ detail }) =>
    signOut(
      detail.reason === "deactivated"
        ? "An administrator deactivated your account, so you were logged out."
        : "Your session has ended. Please log in again.",
    ),
  );
  chat.addEventListener("notice", ({ detail }) => (detail.visible ? showNotice(detail.text) : announce(detail.text)));
  chat.addEventListener("left", ({ detail }) => {
    if (detail.roomId === activeRoomId) location.hash = "#/directory";
  });
  let routed = false;
  chat.addEventListener("rooms", () => {
    if (!routed) {
      routed = true;
      route();
    }
  });
  window.addEventListener("hashchange", route);
  document.addEventListener("visibilitychange", () => renderSidebar(chat, activeRoomId));
  bindChrome();
  renderConnection("connecting");
  chat.connect();
}

function renderMe() {
  $("me-name").textContent = displayName(chat.me);
  $("admin-link").hidden = !chat.me.permissions?.includes("ADMIN");
  $("me-avatar").replaceWith(Object.assign(avatar(chat.me, "small"), { id: "me-avatar" }));
}

let chromeBound = false;
function bindChrome() {
  if (chromeBound) return;
  chromeBound = true;
  $("logout-button").addEventListener("click", async () => {
    try {
      await api.logout();
    } catch {
      /* the session is gone either way */
    }
    signOut();
  });
  const settingsButton = $("settings-button");
  settingsButton.addEventListener("click", () => openSettings(settingsButton));
  $("sidebar-toggle").addEventListener("click", () => toggleSidebar());
  $("scrim").addEventListener("click", () => toggleSidebar(false));
  $("sidebar").addEventListener("click", (event) => {
    // A link, or Mentions, whose results lead to a room: the room shows, not the sidebar.
    if (event.target instanceof Element && event.target.closest("a, #mentions-button, #threads-button")) toggleSidebar(false);
  });
  // Escape closes what lies on top: a dialog closes itself; then the sidebar, then a panel.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.defaultPrevented || document.querySelector("dialog[open]")) return;
    if ($("sidebar").classList.contains("open")) toggleSidebar(false);
    else if (threadPanel.isOpen) threadPanel.close();
    else if (!$("members-panel").hidden) roomView.closeMembers();
    else if (videoPanel.open) videoPanel.close();
  });
}

function toggleSidebar(open = !$("sidebar").classList.contains("open")) {
  $("sidebar").classList.toggle("open", open);
  $("scrim").hidden = !open;
  $("sidebar-toggle").setAttribute("aria-expanded", String(open));
  if (open) $("sidebar").querySelector(/** @type {"a"} */ ("a, button"))?.focus();
}

/** @param {string} [message] */
function signOut(message) {
  chat?.disconnect();
  location.hash = "";
  // A fresh page drops every piece of the old session's state.
  if (message) sessionStorage.setItem("parley.notice", message);
  location.reload();
}

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  syncing: "Catching up…",
  online: "",
};

/** @param {keyof typeof CONNECTION_TEXT} state */
function renderConnection(state) {
  const banner = $("connection-banner");
  // The first connect is quiet unless it takes long; a lost link always shows.
  banner.textContent = state === "syncing" && !chat.everConnected ? "" : CONNECTION_TEXT[state];
  banner.dataset.state = state;
  $("app-screen").classList.toggle("offline", state === "reconnecting");
}

/** @param {string} text */
function announce(text) {
  const region = $("announcer");
  region.textContent = "";
  // A separate tick makes screen readers treat the same text twice as two announcements.
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

// --- routing ----------------------------------------------------------------------------

function route() {
  const match = location.hash.match(/^#\/room\/(\d+)(?:\/(message|thread)\/(\d+)(?:\/reply\/(\d+))?)?$/);
  const roomId = match ? Number(match[1]) : null;
  // A search hit: the room opens at that message; the address then names the room alone.
  const messageId = match?.[2] === "message" ? Number(match[3]) : null;
  // A thread (from the Threads view): the room opens with that thread's panel.
  const threadId = match?.[2] === "thread" ? Number(match[3]) : null;
  // A reply kept to its thread, found by search: the thread opens at it.
  const replyId = threadId !== null && match?.[4] ? Number(match[4]) : null;
  if (roomId !== null && chat.rooms.has(roomId)) {
    showView("room-view");
    if (messageId !== null || threadId !== null) history.replaceState(null, "", `#/room/${roomId}`);
    if (activeRoomId !== roomId || messageId !== null) {
      if (activeRoomId !== roomId) {
        videoPanel.show(roomId);
        threadPanel.close(false);
      }
      activeRoomId = roomId;
      roomView.open(roomId, messageId);
    }
    if (threadId !== null) threadPanel.open(roomId, threadId, null, replyId);
    roomAdmin.renderHeader();
    notifier.renderButton();
  } else if (location.hash === "#/directory" || roomId !== null) {
    leaveRoom();
    showView("directory-view");
    document.title = "Browse rooms · Parley";
    directory.show();
  } else {
    const first = [...chat.rooms.values()].sort((a, b) => b.summary.last_message_id - a.summary.last_message_id)[0];
    if (first) {
      location.replace(`#/room/${first.id}`);
      return;
    }
    leaveRoom();
    showView("empty-view");
    document.title = "Parley";
  }
  renderSidebar(chat, activeRoomId);
}

function leaveRoom() {
  threadPanel.close(false);
  if (activeRoomId !== null) roomView.close();
  videoPanel.hide();
  activeRoomId = null;
}

/** @param {string} id */
function showView(id) {
  for (const view of ["room-view", "directory-view", "empty-view"]) $(view).hidden = view !== id;
  if (id === "directory-view") $("directory-link").setAttribute("aria-current", "page");
  else $("directory-link").removeAttribute("aria-current");
}

const notice = sessionStorage.getItem("parley.notice");
if (notice) {
  sessionStorage.removeItem("parley.notice");
  queueMicrotask(() => ($("login-error").textContent = notice));
}
boot();
