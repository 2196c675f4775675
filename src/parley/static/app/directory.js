// @ts-check
// The room directory, the create-room dialog and the direct-message search.

import { api } from "./api.js";
import { $, avatar, displayName, h } from "./dom.js";
import { openDialog } from "./dialogs.js";
import { fieldMessage } from "./errors.js";

/** @typedef {import("./chat.js").Chat} Chat */
/** @typedef {import("./shapes.js").User} User */
/** @typedef {{id: number, name: string, topic: string, member_count: number, archived?: boolean}} DirectoryRoom */

export class Directory {
  /**
   * @param {Chat} chat
   * @param {(roomId: number) => void} navigate
   */
  constructor(chat, navigate) {
    this.chat = chat;
    this.navigate = navigate;
    /** @type {DirectoryRoom[]} */
    this.rooms = [];
    $("directory-filter", HTMLInputElement).addEventListener("input", () => this.render());
    for (const id of ["directory-create", "new-room-button"]) {
      const button = $(id);
      button.addEventListener("click", () => this.openCreate(button));
    }
    const newDirect = $("new-dm-button");
    newDirect.addEventListener("click", () => this.openDirect(newDirect));
    $("room-form", HTMLFormElement).addEventListener("submit", (e) => this.createRoom(e));
    $("dm-search", HTMLInputElement).addEventListener("input", () => this.searchPeople());
    $("directory-list").addEventListener("click", (e) => this.onJoin(e));
    $("dm-results").addEventListener("click", (e) => this.onPickPerson(e));
  }

  async show() {
    $("directory-list").replaceChildren(h("li", { class: "directory-empty" }, "Loading rooms…"));
    try {
      this.rooms = (await api.directory()).rooms;
    } catch (err) {
      $("directory-list").replaceChildren(h("li", { class: "directory-empty" }, err.message));
      return;
    }
    this.render();
  }

  render() {
    const filter = $("directory-filter", HTMLInputElement).value.trim().toLowerCase();
    const rooms = this.rooms.filter(
      (r) => !filter || r.name.toLowerCase().includes(filter) || r.topic.toLowerCase().includes(filter),
    );
    if (!rooms.length) {
      $("directory-list").replaceChildren(
        h("li", { class: "directory-empty" }, filter ? "No room matches." : "No public rooms yet. Create the first one!"),
      );
      return;
    }
    $("directory-list").replaceChildren(
      ...rooms.map((room) => {
        const member = this.chat.rooms.has(room.id);
        return h(
          "li",
          { class: "directory-item" },
          h(
            "div",
            { class: "directory-text" },
            h("h2", {}, `# ${room.name}`),
            h("p", { class: "room-topic" }, room.topic || "No topic"),
            h("p", { class: "directory-meta" }, `${room.member_count} member${room.member_count === 1 ? "" : "s"}${room.archived ? " · archived" : ""}`),
          ),
          member
            ? h("a", { class: "button ghost", href: `#/room/${room.id}`, "aria-label": `Open ${room.name}` }, "Open")
            : h("button", { type: "button", class: "primary", dataset: { join: String(room.id) }, "aria-label": `Join ${room.name}` }, "Join"),
        );
      }),
    );
  }

  /** @param {MouseEvent} event */
  async onJoin(event) {
    const button = event.target instanceof Element && event.target.closest("button[data-join]");
    if (!(button instanceof HTMLButtonElement)) return;
    const roomId = Number(button.dataset.join);
    button.disabled = true;
    try {
      await api.joinRoom(roomId);
      await this.chat.refreshRooms();
      this.navigate(roomId);
    } catch (err) {
      button.disabled = false;
      button.textContent = "Join";
      button.after(h("span", { class: "form-error", role: "alert" }, fieldMessage(err)));
    }
  }

  /** @param {HTMLElement | null} opener */
  openCreate(opener) {
    $("room-form", HTMLFormElement).reset();
    openDialog($("room-dialog", HTMLDialogElement), opener, "room-name");
  }

  /** @param {SubmitEvent} event */
  async createRoom(event) {
    event.preventDefault();
    const name = $("room-name", HTMLInputElement).value.trim();
    const error = $("room-error");
    if (!name) {
      error.textContent = "Give the room a name.";
      $("room-name", HTMLInputElement).focus();
      return;
    }
    try {
      const room = await api.createRoom({
        name,
        topic: $("room-topic-input", HTMLInputElement).value.trim(),
        kind: $("room-private", HTMLInputElement).checked ? "private" : "public",
      });
      await this.chat.refreshRooms();
      $("room-dialog", HTMLDialogElement).close();
      this.navigate(room.id);
    } catch (err) {
      error.textContent = fieldMessage(err);
    }
  }

  /** @param {HTMLElement | null} opener */
  openDirect(opener) {
    $("dm-search", HTMLInputElement).value = "";
    $("dm-results").replaceChildren();
    openDialog($("dm-dialog", HTMLDialogElement), opener, "dm-search");
    this.searchPeople();
  }

  async searchPeople() {
    const q = $("dm-search", HTMLInputElement).value.trim();
    const seq = (this.searchSeq = (this.searchSeq || 0) + 1);
    let users;
    try {
      users = (await api.users(q)).users.filter((/** @type {User} */ u) => u.id !== this.chat.me.id && u.active);
    } catch (err) {
      $("dm-error").textContent = fieldMessage(err);
      return;
    }
    if (seq !== this.searchSeq) return; // a newer search is on its way
    $("dm-results").replaceChildren(
      ...(users.length
        ? users.map((/** @type {User} */ user) =>
            h(
              "li",
              {},
              h(
                "button",
                { type: "button", class: "person", dataset: { userId: String(user.id) } },
                h("span", { class: `presence ${this.chat.online.has(user.id) ? "online" : "offline"}`, "aria-hidden": "true" }),
                avatar(user, "small"),
                h("span", { class: "person-name" }, displayName(user)),
                h("span", { class: "person-username" }, `@${user.username}`),
              ),
            ),
          )
        : [h("li", { class: "directory-empty" }, "Nobody found.")]),
    );
  }

  /** @param {MouseEvent} event */
  async onPickPerson(event) {
    const button = event.target instanceof Element && event.target.closest("button[data-user-id]");
    if (!(button instanceof HTMLButtonElement)) return;
    try {
      const room = await api.openDirect(Number(button.dataset.userId));
      await this.chat.refreshRooms();
      $("dm-dialog", HTMLDialogElement).close();
      this.navigate(room.id);
    } catch (err) {
      $("dm-error").textContent = fieldMessage(err);
    }
  }
}

// Modules written before errors.js import it from here.
export { fieldMessage };
