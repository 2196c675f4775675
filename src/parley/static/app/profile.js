// @ts-check
// The account part of the settings: display name, picture (chosen, cropped to a square
// with a zoom, uploaded, removed) and password. The server crops and resizes; the page
// only names the square it shows in the preview.

import { api } from "./api.js";
import { fieldMessage } from "./directory.js";
import { $, avatar, displayName } from "./dom.js";
import { bindStrengthMeter } from "./password_strength.js";

/** @typedef {import("./chat.js").Chat} Chat */

const TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];
const MAX_BYTES = 5 * 1024 * 1024;

/** @type {Chat | null} */
let chat = null;
/** @type {{file: File, image: HTMLImageElement, url: string} | null} */
let chosen = null;
/** @type {() => void} */
let passwordChanged = () => {};

/**
 * @param {Chat} theChat
 * @param {() => void} onPasswordChanged called once the other sessions were ended
 */
export function bindProfile(theChat, onPasswordChanged) {
  chat = theChat;
  passwordChanged = onPasswordChanged;
  $("profile-form", HTMLFormElement).addEventListener("submit", saveName);
  $("password-form", HTMLFormElement).addEventListener("submit", changePassword);
  $("avatar-file", HTMLInputElement).addEventListener("change", choosePicture);
  $("avatar-zoom", HTMLInputElement).addEventListener("input", drawPreview);
  $("avatar-cancel").addEventListener("click", () => dropChosen(true));
  $("avatar-save").addEventListener("click", savePicture);
  $("avatar-remove").addEventListener("click", removePicture);
  $("password-new", HTMLInputElement).addEventListener("input", () => ($("password-error").textContent = ""));
  bindStrengthMeter({
    input: $("password-new", HTMLInputElement),
    username: $("password-username", HTMLInputElement),
    displayName: $("profile-display-name", HTMLInputElement),
    meter: $("password-new-meter"),
    hint: $("password-new-hint"),
  });
  chat.addEventListener("me", renderProfile);
}

// Fills the profile sections afresh each time the settings open.
export function showProfile() {
  if (!chat) return;
  dropChosen(false);
  $("password-form", HTMLFormElement).reset();
  $("profile-display-name", HTMLInputElement).value = displayName(chat.me);
  for (const id of ["profile-status", "password-status"]) $(id).textContent = "";
  renderProfile();
}

function renderProfile() {
  if (!chat) return;
  const me = chat.me;
  $("profile-avatar").replaceWith(Object.assign(avatar(me, "large"), { id: "profile-avatar" }));
  $("profile-username").textContent = `Others see it beside your username, @${me.username}.`;
  $("password-username", HTMLInputElement).value = me.username;
  $("avatar-remove").hidden = !me.avatar_url;
}

/** @param {SubmitEvent} event */
async function saveName(event) {
  event.preventDefault();
  if (!chat) return;
  const input = $("profile-display-name", HTMLInputElement);
  const name = input.value.trim();
  $("profile-error").textContent = "";
  $("profile-status").textContent = "";
  if (!name) {
    $("profile-error").textContent = "Enter the name others should see.";
    input.focus();
    return;
  }
  await busy(event.submitter, async () => {
    try {
      chat?.applyUser(await api.updateMe({ display_name: name }));
      $("profile-status").textContent = "Saved.";
    } catch (err) {
      $("profile-error").textContent = fieldMessage(err);
    }
  });
}

/** @param {SubmitEvent} event */
async function changePassword(event) {
  event.preventDefault();
  const old = $("password-old", HTMLInputElement);
  const fresh = $("password-new", HTMLInputElement);
  const error = $("password-error");
  error.textContent = "";
  $("password-status").textContent = "";
  if (!old.value || !fresh.value) {
    error.textContent = "Enter your current password and the new one.";
    (old.value ? fresh : old).focus();
    return;
  }
  await busy(event.submitter, async () => {
    try {
      await api.updateMe({ password: fresh.value, old_password: old.value });
    } catch (err) {
      error.textContent = passwordMessage(err);
      (err.code === "wrong_password" ? old : fresh).focus();
      return;
    }
    $("password-form", HTMLFormElement).reset();
    $("password-status").textContent = "Password changed. You were logged out everywhere else.";
    passwordChanged();
  });
}

/** @param {import("./api.js").ApiError} err */
function passwordMessage(err) {
  if (err.code === "wrong_password") return "Your current password is not right.";
  if (err.code === "weak_password") return [err.message, ...(err.details.suggestions || [])].join(" ");
  if (err.status === 429) return "Too many tries. Wait a minute, then try again.";
  return fieldMessage(err);
}

// --- the picture ------------------------------------------------------------------------

function choosePicture() {
  const input = $("avatar-file", HTMLInputElement);
  const file = input.files?.[0];
  $("avatar-error").textContent = "";
  if (!file) return;
  if (!TYPES.includes(file.type)) {
    input.value = "";
    $("avatar-error").textContent = "Choose a PNG, JPEG, WebP or GIF picture.";
    return;
  }
  if (file.size > MAX_BYTES) {
    input.value = "";
    $("avatar-error").textContent = `That picture is ${(file.size / 1024 / 1024).toFixed(1)} MB; pictures may be up to 5 MB.`;
    return;
  }
  dropChosen(false);
  const url = URL.createObjectURL(file);
  const image = new Image();
  image.addEventListener("load", () => {
    chosen = { file, image, url };
    $("avatar-zoom", HTMLInputElement).value = "1";
    $("avatar-crop").hidden = false;
    drawPreview();
    $("avatar-zoom").focus();
  });
  image.addEventListener("error", () => {
    URL.revokeObjectURL(url);
    input.value = "";
    $("avatar-error").textContent = "That file cannot be read as a picture.";
  });
  image.src = url;
}

// The centred square, smaller as the zoom grows, in the upright picture's pixels (the
// browser draws a photo turned by its orientation, as the server reads it).
function cropSquare() {
  if (!chosen) return { x: 0, y: 0, size: 1 };
  const { naturalWidth: width, naturalHeight: height } = chosen.image;
  const zoom = Number($("avatar-zoom", HTMLInputElement).value) || 1;
  const size = Math.max(1, Math.floor(Math.min(width, height) / zoom));
  return { x: Math.floor((width - size) / 2), y: Math.floor((height - size) / 2), size };
}

function drawPreview() {
  if (!chosen) return;
  const canvas = $("avatar-preview", HTMLCanvasElement);
  const context = canvas.getContext("2d");
  if (!context) return;
  const { x, y, size } = cropSquare();
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.drawImage(chosen.image, x, y, size, size, 0, 0, canvas.width, canvas.height);
}

/** @param {boolean} refocus */
function dropChosen(refocus) {
  if (chosen) URL.revokeObjectURL(chosen.url);
  chosen = null;
  $("avatar-crop").hidden = true;
  $("avatar-file", HTMLInputElement).value = "";
  if (refocus) $("avatar-file").focus();
}

async function savePicture() {
  if (!chosen || !chat) return;
  $("avatar-error").textContent = "";
  await busy($("avatar-save"), async () => {
    if (!chosen) return;
    try {
      chat?.applyUser(await api.setAvatar(chosen.file, cropSquare()));
    } catch (err) {
      $("avatar-error").textContent = fieldMessage(err);
      return;
    }
    dropChosen(true);
  });
}

async function removePicture() {
  $("avatar-error").textContent = "";
  await busy($("avatar-remove"), async () => {
    try {
      chat?.applyUser(await api.removeAvatar());
    } catch (err) {
      $("avatar-error").textContent = fieldMessage(err);
      return;
    }
    $("avatar-file").focus();
  });
}

/**
 * @param {HTMLElement | null} button
 * @param {() => Promise<void>} call
 */
async function busy(button, call) {
  if (button instanceof HTMLButtonElement) button.disabled = true;
  try {
    await call();
  } finally {
    if (button instanceof HTMLButtonElement) button.disabled = false;
  }
}
