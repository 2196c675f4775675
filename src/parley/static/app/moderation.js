// @ts-check
// Moderating a member, from the member list or a message's menu: mute for a time,
// unmute, change their room role, remove, ban and lift a ban. The dialog offers only what
// the server allows this moderator on this member (room_rights.js); the server decides.

import { api } from "./api.js";
import { confirmAction, openDialog } from "./dialogs.js";
import { $, displayName, formatFull, roomLabel } from "./dom.js";
import { canModerate, canSetRoles } from "./room_rights.js";

/** @typedef {import("./chat.js").Chat} Chat */
/** @typedef {import("./shapes.js").Member} Member */

/** @param {Member} member */
const mutedUntil = (member) =>
  member.muted_until && new Date(member.muted_until) > new Date() ? member.muted_until : null;

export class Moderation {
  /**
   * @param {Chat} chat
   * @param {(text: string) => void} announce
   */
  constructor(chat, announce) {
    this.chat = chat;
    this.announce = announce;
    /** @type {number | null} */
    this.roomId = null;
    /** @type {number | null} */
    this.userId = null;
    this.dialog = $("member-dialog", HTMLDialogElement);
    this.bind();
  }

  /**
   * May I moderate this user in this room? (Controls are shown only then.)
   * @param {number | null} roomId
   * @param {number} userId
   */
  canActOn(roomId, userId) {
    const room = roomId === null ? undefined : this.chat.rooms.get(roomId);
    const member = room?.members?.get(userId);
    return Boolean(room && member && canModerate(this.chat.me, room.summary, member));
  }

  bind() {
    // Buttons carrying data-moderate (member list, banned list, message menus) open it.
    for (const id of ["member-list", "banned-list", "message-list"]) {
      $(id).addEventListener("click", (event) => {
        const button = event.target instanceof Element && event.target.closest("button[data-moderate]");
        if (!(button instanceof HTMLButtonElement)) return;
        const roomId = Number(button.dataset.roomId);
        this.open(roomId, Number(button.dataset.moderate), button);
      });
    }
    $("mute-form", HTMLFormElement).addEventListener("submit", (event) => {
      event.preventDefault();
      this.mute();
    });
    for (const radio of document.querySelectorAll('input[name="mute-for"]')) {
      radio.addEventListener("change", () => this.renderCustom());
    }
    $("member-unmute").addEventListener("click", () => this.act((r, u) => api.unmute(r, u), "unmuted"));
    $("member-role").addEventListener("click", () => {
      const role = $("member-role").dataset.role ?? "member";
      this.act((r, u) => api.setMemberRole(r, u, role), role === "moderator" ? "made a moderator" : "made a regular member");
    });
    $("member-remove").addEventListener("click", () => this.confirmed("remove"));
    $("member-ban").addEventListener("click", () => this.confirmed("ban"));
    $("member-unban").addEventListener("click", () => this.act((r, u) => api.unban(r, u), "no longer banned"));
    this.chat.addEventListener("members", ({ detail }) => {
      if (detail.roomId === this.roomId && this.dialog.open) this.render();
    });
    this.chat.addEventListener("left", ({ detail }) => {
      if (detail.roomId === this.roomId && this.dialog.open) this.dialog.close();
    });
  }

  get member() {
    if (this.roomId === null || this.userId === null) return undefined;
    return this.chat.rooms.get(this.roomId)?.members?.get(this.userId);
  }

  /**
   * @param {number} roomId
   * @param {number} userId
   * @param {HTMLElement} opener
   */
  open(roomId, userId, opener) {
    if (!this.canActOn(roomId, userId)) return;
    this.roomId = roomId;
    this.userId = userId;
    for (const radio of document.querySelectorAll('input[name="mute-for"]')) {
      if (radio instanceof HTMLInputElement) radio.checked = radio.value === "10";
    }
    $("mute-minutes", HTMLInputElement).value = "";
    this.render();
    openDialog(this.dialog, opener);
    const first = [...this.dialog.querySelectorAll("button, input")].find(
      (el) => el instanceof HTMLElement && el.getClientRects().length,
    );
    if (first instanceof HTMLElement) first.focus();
  }

  render() {
    const member = this.member;
    const room = this.roomId === null ? undefined : this.chat.rooms.get(this.roomId);
    // Gone from the list for now (a ban's leave event comes before the list that shows
    // them banned): the request that did it renders the outcome.
    if (!member || !room) return;
    const name = displayName(member.user);
    const muted = mutedUntil(member);
    $("member-dialog-title").textContent = `${name} in ${roomLabel(room.summary)}`;
    $("member-dialog-status").textContent = member.banned
      ? `@${member.user.username} is banned from this room.`
      : `@${member.user.username}, ${member.role === "member" ? "a member" : `a ${member.role}`}` +
        (muted ? `, muted until ${formatFull(muted)}.` : ".");
    const allowed = canModerate(this.chat.me, room.summary, member);
    $("mute-form").hidden = !allowed || member.banned === true;
    $("member-mute").textContent = muted ? "Mute for longer" : "Mute";
    $("member-unmute").hidden = !allowed || member.banned === true || !muted;
    const roleButton = $("member-role");
    roleButton.hidden = !allowed || member.banned === true || member.role === "owner" || !canSetRoles(this.chat.me, room.summary);
    roleButton.dataset.role = member.role === "moderator" ? "member" : "moderator";
    roleButton.textContent = member.role === "moderator" ? "Make a regular member" : "Make a moderator";
    $("member-remove").hidden = !allowed || member.banned === true;
    $("member-ban").hidden = !allowed || member.banned === true;
    $("member-unban").hidden = !allowed || member.banned !== true;
    this.renderCustom();
  }

  renderCustom() {
    const custom = $("mute-custom", HTMLInputElement).checked;
    $("mute-minutes").hidden = !custom;
    $("mute-minutes-label").hidden = !custom;
  }

  async mute() {
    const choice = /** @type {HTMLInputElement | null} */ (this.dialog.querySelector('input[name="mute-for"]:checked'));
    let minutes = Number(choice?.value);
    if (choice?.value === "custom") {
      minutes = Number($("mute-minutes", HTMLInputElement).value);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 527040) {
        $("member-error").textContent = "Give a whole number of minutes, from 1 to 527040 (a year).";
        $("mute-minutes").focus();
        return;
      }
    }
    await this.act((r, u) => api.mute(r, u, minutes), "muted");
  }

  /** @param {"remove" | "ban"} what */
  async confirmed(what) {
    const member = this.member;
    const room = this.roomId === null ? undefined : this.chat.rooms.get(this.roomId);
    if (!member || !room) return;
    const name = displayName(member.user);
    const label = roomLabel(room.summary);
    const words =
      what === "ban"
        ? { title: `Ban ${name}?`, text: `They lose ${label} at once and cannot read it, post or come back until the ban is lifted.`, ok: "Ban" }
        : { title: `Remove ${name}?`, text: room.summary.kind === "private" ? `They lose ${label} until someone invites them again.` : `They leave ${label}; they may join it again.`, ok: "Remove" };
    if (!(await confirmAction($(what === "ban" ? "member-ban" : "member-remove"), words))) return;
    if (what === "ban") await this.act((r, u) => api.ban(r, u), "banned");
    else await this.act((r, u) => api.removeMember(r, u), "removed");
  }

  /**
   * Runs one moderation request, then shows the member list as the server has it now.
   * @param {(roomId: number, userId: number) => Promise<unknown>} call
   * @param {string} done what it did, for the announcement
   */
  async act(call, done) {
    const roomId = this.roomId;
    const userId = this.userId;
    const member = this.member;
    if (roomId === null || userId === null || !member) return;
    $("member-error").textContent = "";
    try {
      await call(roomId, userId);
    } catch (err) {
      $("member-error").textContent = err.message;
      return;
    }
    this.announce(`${displayName(member.user)} ${done}.`);
    await this.chat.loadMembers(roomId).catch(() => {});
    if (!this.dialog.open) return;
    if (this.member) this.render();
    else this.dialog.close();
  }
}
