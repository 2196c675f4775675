// @ts-check
// The settings dialog: the profile and password (profile.js), two-factor authentication
// (enrol with a QR code, recovery codes, turn off), the logins and API tokens, each
// revocable.

import { api } from "./api.js";
import { openDialog } from "./dialogs.js";
import { fieldMessage } from "./errors.js";
import { $, formatFull, h } from "./dom.js";
import { showProfile } from "./profile.js";

// Sections for a person using the chat; an administrator who must enrol first sees
// only two-factor authentication.
const ACCOUNT_SECTIONS = ["profile-section", "password-section", "tokens-section"];

let bound = false;
/** @type {(() => void) | null} */
let onEnabled = null;

// notice: why the dialog opened by itself (an administrator who must enrol, enrolOnly);
// enabled: called once 2FA is on.
/**
 * @param {HTMLElement | null} opener
 * @param {{notice?: string, enabled?: () => void, enrolOnly?: boolean}} [options]
 */
export function openSettings(opener, { notice, enabled, enrolOnly = false } = {}) {
  bind();
  for (const id of ACCOUNT_SECTIONS) $(id).hidden = enrolOnly;
  if (!enrolOnly) {
    showProfile();
    refreshTokens();
  }
  onEnabled = enabled || null;
  $("settings-notice").textContent = notice || "";
  $("settings-notice").hidden = !notice;
  for (const id of ["twofa-start-form", "twofa-confirm-form", "twofa-recovery", "twofa-manage-form"]) {
    $(id).hidden = true;
  }
  openDialog($("settings-dialog", HTMLDialogElement), opener);
  refreshTwoFactor();
  refreshSessions();
}

function bind() {
  if (bound) return;
  bound = true;
  $("twofa-start-form", HTMLFormElement).addEventListener("submit", async (event) => {
    event.preventDefault();
    await guarded(async () => {
      const enrolment = await api.startTwoFactor($("twofa-password", HTMLInputElement).value);
      $("twofa-password", HTMLInputElement).value = "";
      $("twofa-qr", HTMLImageElement).src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qr_svg)}`;
      $("twofa-secret").textContent = enrolment.secret;
      $("twofa-start-form", HTMLFormElement).hidden = true;
      $("twofa-confirm-form", HTMLFormElement).hidden = false;
      $("twofa-code", HTMLInputElement).focus();
    });
  });
  $("twofa-confirm-form", HTMLFormElement).addEventListener("submit", async (event) => {
    event.preventDefault();
    await guarded(async () => {
      const { recovery_codes: codes } = await api.confirmTwoFactor($("twofa-code", HTMLInputElement).value.trim());
      $("twofa-code", HTMLInputElement).value = "";
      $("twofa-confirm-form", HTMLFormElement).hidden = true;
      showRecoveryCodes(codes);
      await refreshTwoFactor();
      onEnabled?.();
    });
  });
  $("twofa-new-codes").addEventListener("click", async () => {
    await guarded(async () => {
      const { recovery_codes: codes } = await api.newRecoveryCodes($("twofa-manage-code", HTMLInputElement).value.trim());
      $("twofa-manage-code", HTMLInputElement).value = "";
      showRecoveryCodes(codes);
      await refreshTwoFactor();
    });
  });
  $("twofa-disable").addEventListener("click", async () => {
    await guarded(async () => {
      await api.disableTwoFactor($("twofa-manage-password", HTMLInputElement).value, $("twofa-manage-code", HTMLInputElement).value.trim());
      $("twofa-manage-code", HTMLInputElement).value = "";
      $("twofa-manage-password", HTMLInputElement).value = "";
      $("twofa-recovery").hidden = true;
      await refreshTwoFactor();
    });
  });
}

/** @param {() => Promise<void>} call */
async function guarded(call) {
  $("twofa-error").textContent = "";
  try {
    await call();
  } catch (err) {
    $("twofa-error").textContent = fieldMessage(err);
  }
}

/** @param {string[]} codes */
function showRecoveryCodes(codes) {
  $("twofa-recovery-codes").replaceChildren(...codes.map((code) => h("li", {}, code)));
  $("twofa-recovery").hidden = false;
}

async function refreshTwoFactor() {
  let status;
  try {
    status = await api.twoFactor();
  } catch (err) {
    $("twofa-error").textContent = fieldMessage(err);
    return;
  }
  if (status.enabled) {
    $("twofa-status").textContent = `On. ${status.recovery_codes_left} recovery codes left.`;
    $("twofa-start-form", HTMLFormElement).hidden = true;
    $("twofa-manage-form", HTMLFormElement).hidden = false;
  } else {
    $("twofa-status").textContent = status.required
      ? "Off. This server requires it of administrators."
      : "Off. A code from an authenticator app will be asked for at each login.";
    $("twofa-manage-form", HTMLFormElement).hidden = true;
    if ($("twofa-confirm-form", HTMLFormElement).hidden) $("twofa-start-form", HTMLFormElement).hidden = false;
  }
}

export async function refreshSessions() {
  $("sessions-error").textContent = "";
  let sessions;
  try {
    ({ sessions } = await api.sessions());
  } catch (err) {
    $("sessions-error").textContent = fieldMessage(err);
    return;
  }
  $("sessions-list").replaceChildren(...sessions.map(sessionItem));
}

/** @param {{id: number, kind: string, created_at: string, last_used_at: string | null, current: boolean, address?: string | null, device?: string | null}} session */
function sessionItem(session) {
  const what = session.kind === "session" ? "Web" : "API login";
  const used = session.last_used_at ? `last used ${formatFull(session.last_used_at)}` : `since ${formatFull(session.created_at)}`;
  const meta = [what, session.address, used].filter(Boolean).join(" · ");
  const label = session.current ? "Log out" : "Revoke";
  const button = h(
    "button",
    {
      type: "button",
      class: "ghost small",
      "aria-label": `${label}: ${session.device || "unknown device"}`,
      onclick: async () => {
        button.disabled = true;
        try {
          await api.revokeSession(session.id);
        } catch (err) {
          $("sessions-error").textContent = fieldMessage(err);
          button.disabled = false;
          return;
        }
        if (session.current) location.reload();
        else refreshSessions();
      },
    },
    label,
  );
  return h(
    "li",
    { dataset: { sessionId: String(session.id) } },
    h(
      "div",
      { class: "session-info" },
      h("div", {}, session.device || "Unknown device", session.current ? " (this device)" : ""),
      h("div", { class: "session-meta" }, meta),
    ),
    button,
  );
}

// Hand-made API tokens only: the logins are the sessions above.
async function refreshTokens() {
  $("tokens-error").textContent = "";
  let tokens;
  try {
    ({ tokens } = await api.tokens());
  } catch (err) {
    $("tokens-error").textContent = fieldMessage(err);
    return;
  }
  const made = tokens.filter((/** @type {{kind: string}} */ t) => t.kind === "api");
  $("tokens-list").replaceChildren(
    ...(made.length ? made.map(tokenItem) : [h("li", { class: "sessions-empty" }, "No API tokens.")]),
  );
}

/** @param {{id: number, name: string, created_at: string, last_used_at: string | null}} token */
function tokenItem(token) {
  const used = token.last_used_at ? `last used ${formatFull(token.last_used_at)}` : `made ${formatFull(token.created_at)}, never used`;
  const button = h(
    "button",
    {
      type: "button",
      class: "ghost small",
      "aria-label": `Revoke token ${token.name}`,
      onclick: async () => {
        button.disabled = true;
        try {
          await api.revokeToken(token.id);
        } catch (err) {
          $("tokens-error").textContent = fieldMessage(err);
          button.disabled = false;
          return;
        }
        await refreshTokens();
        $("tokens-heading").focus();
      },
    },
    "Revoke",
  );
  return h(
    "li",
    { dataset: { tokenId: String(token.id) } },
    h("div", { class: "session-info" }, h("div", {}, token.name), h("div", { class: "session-meta" }, used)),
    button,
  );
}
