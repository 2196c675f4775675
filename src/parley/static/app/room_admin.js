// @ts-check
// The room's own controls in its header: inviting people (with who was added and has
// not opened the room yet) and the room's settings (name, topic, private or public,
// archive, leave). Shown only to those the server lets do each (room_rights.js).

import { api } from "./api.js";
import { confirmAction, openDialog } from "./dialogs.js";
import { fieldMessage } from "./directory.js";
import { $, avatar, displayName, h, roomLabel } from "./dom.js";
import { canChangeKind, canEditRoom, canInvite, canLeave } from "./room_rights.js";

/** @typedef {import("./chat.js").Chat} Chat */
/** @typedef {import("./shapes.js").User} User */
/** @typedef {import("./shapes.js").Member} Member */

export class RoomAdmin {
  /**
   * @param {Chat} chat
   * @param {() => number | null} currentRoomId the room on screen
   */
  constructor(chat, currentRoomId) {
    this.chat = chat;
    this.currentRoomId = currentRoomId;
    /** @type {number | null} the room the open dialog is about */
    this.dialogRoomId = null;
    this.searchSeq = 0;
    this.bind();
  }

  get summary() {
    const id = this.currentRoomId();
    return id === null ? undefined : this.chat.rooms.get(id)?.summary;
  }

  /** The header's buttons, for the room on screen as it is now. */
  renderHeader() {
    const room = this.summary;
    $("invite-button").hidden = !room || !canInvite(room);
    $("room-settings-button").hidden = !room || !canLeave(room);
    const dialogRoom = this.dialogRoomId === null ? undefined : this.chat.rooms.get(this.dialogRoomId);
    if ($("room-settings-dialog", HTMLDialogElement).open && dialogRoom) this.renderSettingsState();
    if ($("invite-dialog", HTMLDialogElement).open) {
      if (!dialogRoom || !canInvite(dialogRoom.summary)) $("invite-dialog", HTMLDialogElement).close();
      else this.renderPending();
    }
  }

  bind() {
    const inviteButton = $("invite-button");
    inviteButton.addEventListener("click", () => this.openInvite(inviteButton));
    const settingsButton = $("room-settings-button");
    settingsButton.addEventListener("click", () => this.openSettings(settingsButton));
    $("invite-search", HTMLInputElement).addEventListener("input", () => this.search());
    $("invite-form", HTMLFormElement).addEventListener("submit", (event) => event.preventDefault());
    $("invite-results").addEventListener("click", (event) => this.onAdd(event));
    $("room-settings-form", HTMLFormElement).addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveSettings();
    });
    $("room-archive").addEventListener("click", () => this.toggleArchived());
    $("room-leave").addEventListener("click", () => this.leave());
    for (const type of ["room", "rooms"]) this.chat.addEventListener(type, () => this.renderHeader());
    this.chat.addEventListener("members", ({ detail }) => {
      if (detail.roomId === this.dialogRoomId && $("invite-dialog", HTMLDialogElement).open) {
        this.renderPending();
        this.search();
      }
    });
    this.chat.addEventListener("left", ({ detail }) => {
      if (detail.roomId !== this.dialogRoomId) return;
      for (const id of ["invite-dialog", "room-settings-dialog"]) $(id, HTMLDialogElement).close();
    });
  }

  // --- inviting ---------------------------------------------------------------------------

  /** @param {HTMLElement} opener */
  async openInvite(opener) {
    const roomId = this.currentRoomId();
    const room = roomId === null ? undefined : this.chat.rooms.get(roomId);
    if (!room || roomId === null) return;
    this.dialogRoomId = roomId;
    $("invite-room").textContent =
      room.summary.kind === "private"
        ? `People you add to ${roomLabel(room.summary)} can read it and post in it.`
        : `Add people to ${roomLabel(room.summary)}.`;
    $("invite-search", HTMLInputElement).value = "";
    $("invite-results").replaceChildren();
    $("invite-pending").replaceChildren();
    openDialog($("invite-dialog", HTMLDialogElement), opener, "invite-search");
    // Fresh, for who has opened the room since.
    await this.chat.loadMembers(roomId).catch(() => {});
    this.renderPending();
    this.search();
  }

  /** @param {number} userId */
  memberOf(userId) {
    const room = this.dialogRoomId === null ? undefined : this.chat.rooms.get(this.dialogRoomId);
    return room?.members?.get(userId);
  }

  async search() {
    const roomId = this.dialogRoomId;
    if (roomId === null) return;
    const q = $("invite-search", HTMLInputElement).value.trim();
    const seq = ++this.searchSeq;
    /** @type {User[]} */
    let users;
    try {
      users = (await api.users(q)).users.filter((/** @type {User} */ u) => u.id !== this.chat.me.id && u.active);
    } catch (err) {
      $("invite-error").textContent = err.message;
      return;
    }
    if (seq !== this.searchSeq) return; // a newer search is on its way
    $("invite-results").replaceChildren(
      ...(users.length ? users.map((user) => this.personRow(user)) : [h("li", { class: "directory-empty" }, "Nobody found.")]),
    );
  }

  /** @param {User} user */
  personRow(user) {
    const member = this.memberOf(user.id);
    const name = displayName(user);
    const state = member?.banned ? "Banned here" : member ? "In the room" : null;
    return h(
      "li",
      { class: "invite-person" },
      avatar(user, "small"),
      h("span", { class: "person-text" }, h("span", { class: "person-name" }, name), " ", h("span", { class: "person-username" }, `@${user.username}`)),
      state
        ? h("span", { class: "role-tag" }, state)
        : h("button", { type: "button", class: "primary small", dataset: { userId: String(user.id) }, "aria-label": `Add ${name}` }, "Add"),
    );
  }

  /** @param {MouseEvent} event */
  async onAdd(event) {
    const button = event.target instanceof Element && event.target.closest("button[data-user-id]");
    if (!(button instanceof HTMLButtonElement) || this.dialogRoomId === null) return;
    const roomId = this.dialogRoomId;
    button.disabled = true;
    $("invite-error").textContent = "";
    try {
      const member = await api.invite(roomId, Number(button.dataset.userId));
      this.chat.rooms.get(roomId)?.members?.set(member.user.id, member);
      this.renderPending();
      await this.search();
      $("invite-search", HTMLInputElement).focus();
    } catch (err) {
      $("invite-error").textContent = err.message;
      button.disabled = false;
    }
  }

  // Members who have read nothing here yet: added (or joined) and not come in since.
  renderPending() {
    const room = this.dialogRoomId === null ? undefined : this.chat.rooms.get(this.dialogRoomId);
    const pending = [...(room?.members?.values() ?? [])].filter((m) => !m.banned && !m.seen && m.user.id !== this.chat.me.id);
    $("invite-pending").replaceChildren(
      ...(pending.length
        ? pending.map((m) =>
            h("li", { class: "member" }, avatar(m.user, "small"), h("span", { class: "member-name" }, displayName(m.user)), h("span", { class: "role-tag" }, "pending")),
          )
        : [h("li", { class: "hint" }, "Everyone here has opened the room.")]),
    );
  }

  // --- settings ---------------------------------------------------------------------------

  /** @param {HTMLElement} opener */
  openSettings(opener) {
    const roomId = this.currentRoomId();
    const room = roomId === null ? undefined : this.chat.rooms.get(roomId);
    if (!room) return;
    this.dialogRoomId = roomId;
    const summary = room.summary;
    $("room-settings-name", HTMLInputElement).value = summary.name || "";
    $("room-settings-topic", HTMLInputElement).value = summary.topic || "";
    $("room-settings-private", HTMLInputElement).checked = summary.kind === "private";
    this.renderSettingsState();
    const editable = canEditRoom(this.chat.me, summary);
    openDialog($("room-settings-dialog", HTMLDialogElement), opener, editable ? "room-settings-name" : "room-leave");
  }

  renderSettingsState() {
    const summary = this.dialogRoomId === null ? undefined : this.chat.rooms.get(this.dialogRoomId)?.summary;
    if (!summary) return;
    const editable = canEditRoom(this.chat.me, summary);
    $("room-settings-title").textContent = `Settings of ${roomLabel(summary)}`;
    $("room-settings-fields").hidden = !editable;
    $("room-settings-save-row").hidden = !editable;
    $("room-settings-readonly").hidden = editable;
    $("room-settings-private-row").hidden = !canChangeKind(this.chat.me, summary);
    $("room-archive").hidden = !editable;
    $("room-archive").textContent = summary.archived ? "Unarchive room" : "Archive room";
    $("room-archive-hint").textContent = summary.archived
      ? "This room is archived: it is read-only and out of the directory."
      : editable
        ? "Archiving makes the room read-only and takes it out of the directory."
        : "";
  }

  async saveSettings() {
    const roomId = this.dialogRoomId;
    const summary = roomId === null ? undefined : this.chat.rooms.get(roomId)?.summary;
    if (roomId === null || !summary) return;
    const name = $("room-settings-name", HTMLInputElement).value.trim();
    if (!name) {
      $("room-settings-error").textContent = "The room needs a name.";
      return;
    }
    /** @type {Record<string, unknown>} */
    const fields = { name, topic: $("room-settings-topic", HTMLInputElement).value.trim() };
    if (canChangeKind(this.chat.me, summary)) {
      fields.kind = $("room-settings-private", HTMLInputElement).checked ? "private" : "public";
    }
    try {
      const room = await api.updateRoom(roomId, fields);
      this.chat.onRoomUpdate(room);
      $("room-settings-dialog", HTMLDialogElement).close();
    } catch (err) {
      $("room-settings-error").textContent = fieldMessage(err);
    }
  }

  async toggleArchived() {
    const roomId = this.dialogRoomId;
    const summary = roomId === null ? undefined : this.chat.rooms.get(roomId)?.summary;
    if (roomId === null || !summary) return;
    try {
      this.chat.onRoomUpdate(await api.updateRoom(roomId, { archived: !summary.archived }));
    } catch (err) {
      $("room-settings-error").textContent = err.message;
    }
  }

  async leave() {
    const roomId = this.dialogRoomId;
    const summary = roomId === null ? undefined : this.chat.rooms.get(roomId)?.summary;
    if (roomId === null || !summary) return;
    const words = {
      title: `Leave ${roomLabel(summary)}?`,
      text:
        summary.kind === "private"
          ? "You will need an invitation to come back."
          : "You can join it again from the directory.",
      ok: "Leave",
    };
    if (!(await confirmAction($("room-leave"), words))) return;
    try {
      await api.leaveRoom(roomId);
      $("room-settings-dialog", HTMLDialogElement).close();
      this.chat.dropRoom(roomId);
    } catch (err) {
      $("room-settings-error").textContent = err.message;
    }
  }
}
