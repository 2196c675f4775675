// @ts-check
// The chat state and the Socket.IO connection, following docs/realtime.md: events are
// applied idempotently, every (re)connect syncs from the ids held when the link was lost,
// and a message keeps its client_id across retries so it is never stored twice.

import { io } from "../vendor/socket.io.esm.min.js";
import { api } from "./api.js";
import { newClientId } from "./dom.js";
import { fieldMessage, refusedForGood } from "./errors.js";

/** @typedef {import("./shapes.js").Member} Member */
/** @typedef {import("./shapes.js").Message} Message */
/** @typedef {import("./shapes.js").PendingSend} PendingSend */
/** @typedef {import("./shapes.js").RoomSummary} RoomSummary */
/** @typedef {import("./shapes.js").User} User */
/** @typedef {import("./shapes.js").Live} Live */
/** @typedef {Map<number, number>} Snapshot room id -> the last message id held */

const ACK_TIMEOUT_MS = 10000;
const SYNC_LIMIT = 200;
const TYPING_EVERY_MS = 2000;
// Read marks go out at most this often per room; the last one asked for wins.
const READ_EVERY_MS = 1000;
// A send the server could not take now (its budget or its queue is full) is sent again,
// with the same client_id, once retry_after has passed.
const LATER_CODES = new Set(["rate_limited", "overloaded"]);
// A send whose answer never came may have been stored or not: the same client_id makes
// sending it again safe, as soon as the link is back.
const LINK_CODES = new Set(["offline", "timeout"]);
const RESEND_SOON_MS = 1000;

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The wait an error asks for, in milliseconds, never nothing.
 * @param {{details?: {retry_after?: number}}} err
 */
const retryAfterMs = (err) => Math.max(250, Number(err.details?.retry_after || 1) * 1000);

// A reply sent to its thread alone: not in the room's timeline, nor counted as unread.
/** @param {Message} m */
export const threadOnly = (m) => Boolean(m.thread_id) && !m.also_to_room;

/** @param {Message} m */
const freshness = (m) => Math.max(m.seq || 0, m.changed_seq || 0);

export class RoomState {
  /** @param {RoomSummary} summary */
  constructor(summary) {
    this.summary = summary;
    /** @type {Map<number, Message>} id -> message */
    this.messages = new Map();
    this.loaded = false; // the newest page was fetched: sync keeps it complete from there
    this.hasOlder = true;
    // The messages held end before the room's newest (opened at a search hit): new ones
    // are not held until paging reaches the newest, so what is held has no gap.
    this.hasNewer = false;
    // Counts each time the held messages are replaced: a page asked for before that
    // belongs to what was dropped, and is thrown away.
    this.epoch = 0;
    this.lastSeq = summary.last_seq || 0;
    /** @type {Map<number, ReturnType<typeof setTimeout>>} user id -> timeout handle */
    this.typing = new Map();
    /** @type {Map<number, Member> | null} user id -> member, once fetched */
    this.members = null;
  }

  get id() {
    return this.summary.id;
  }

  lastId() {
    let last = 0;
    for (const id of this.messages.keys()) if (id > last) last = id;
    return last;
  }

  oldestId() {
    let oldest = 0;
    for (const id of this.messages.keys()) if (!oldest || id < oldest) oldest = id;
    return oldest;
  }

  sorted() {
    return [...this.messages.values()].sort((a, b) => a.id - b.id);
  }

  // Stores a copy unless the one held is newer; answers whether anything changed.
  /** @param {Message} message */
  store(message) {
    const held = this.messages.get(message.id);
    if (held && freshness(held) >= freshness(message)) return false;
    this.messages.set(message.id, message);
    return true;
  }
}

export class Chat extends EventTarget {
  /** @param {User} me */
  constructor(me) {
    super();
    this.me = me;
    /** @type {Map<number, RoomState>} room id -> RoomState (memberships only) */
    this.rooms = new Map();
    /** @type {Set<number>} */
    this.online = new Set();
    /** @type {Map<string, PendingSend>} client id -> the send */
    this.pending = new Map();
    /** @type {(() => void)[]} sends waiting for the next connect */
    this.linkWaiters = [];
    this.connected = false;
    this.everConnected = false;
    /** @type {Snapshot | null} the last ids held when the link went down */
    this.snapshot = null;
    this.syncing = null;
    /** @type {Map<number, number>} */
    this.lastTypingSent = new Map();
    /** @type {Set<number>} rooms with a room:read on its way */
    this.reading = new Set();
    /** @type {Map<number, number>} room id -> when its last room:read went out */
    this.readSent = new Map();
    /** @type {Map<number, ReturnType<typeof setTimeout>>} room id -> its next read mark */
    this.readLater = new Map();
    this.outbox = Promise.resolve();
    /** @type {import("../vendor/socket.io.esm.min.js").Socket | null} */
    this.socket = null;
  }

  /**
   * Every event of the chat is a CustomEvent whose `detail` holds what changed.
   * @param {string} type
   * @param {((event: CustomEvent) => void) | EventListenerObject | null} listener
   * @param {AddEventListenerOptions | boolean} [options]
   */
  addEventListener(type, listener, options) {
    super.addEventListener(type, /** @type {EventListener} */ (listener), options);
  }

  /**
   * @param {string} type
   * @param {Record<string, unknown>} [detail]
   */
  emitChange(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  connect() {
    // WebSocket first (no long-polling handshake and upgrade), long-polling only where
    // WebSocket cannot get through.
    const socket = io({
      withCredentials: true,
      // Presence changes gathered into one event per interval: a crowd arriving at once
      // costs the server one event per socket per interval, not one per arrival.
      auth: { presence: "batched" },
      reconnectionDelayMax: 4000,
      transports: ["websocket", "polling"],
      tryAllTransports: true,
    });
    this.socket = socket;
    socket.on("connect", () => this.onConnect());
    socket.on("disconnect", (reason) => this.onDisconnect(reason));
    socket.on("connect_error", (err) => {
      if (err?.data?.code === "unauthorized") this.emitChange("signedout");
      else this.emitChange("connection", { state: "reconnecting" });
    });
    socket.on("message:new", (data) => this.onMessageEvent(data, true));
    socket.on("message:edit", (data) => this.onMessageEvent(data, false));
    socket.on("message:delete", (data) => this.onMessageEvent(data, false));
    socket.on("room:update", ({ room }) => this.onRoomUpdate(room));
    socket.on("room:member_join", (data) => this.onMemberJoin(data));
    socket.on("room:member_leave", (data) => this.onMemberLeave(data));
    socket.on("room:member_update", (data) => this.onMemberUpdate(data));
    socket.on("presence:batch", ({ changes }) => {
      for (const { user_id: userId, status } of changes) {
        if (status === "online") this.online.add(userId);
        else this.online.delete(userId);
      }
      this.emitChange("presence", {});
    });
    socket.on("reaction:add", (data) => this.onMessagePatch(data, { reactions: data.reactions }));
    socket.on("reaction:remove", (data) => this.onMessagePatch(data, { reactions: data.reactions }));
    socket.on("message:pin", (data) => {
      this.onMessagePatch(data, { pinned: data.pinned });
      this.emitChange("pins", { roomId: data.room_id });
    });
    socket.on("thread:update", (data) => {
      this.onMessagePatch({ room_id: data.room_id, message_id: data.root_id, seq: data.seq }, { thread: data.thread });
      this.emitChange("thread", { roomId: data.room_id, rootId: data.root_id, thread: data.thread });
    });
    socket.on("thread:unread", (data) => this.emitChange("threadunread", data));
    socket.on("mention", (data) => this.onMention(data));
    socket.on("typing", (data) => this.onTyping(data));
    socket.on("unread", (data) => this.onUnread(data));
    socket.on("user:update", ({ user }) => this.applyUser(user));
    socket.on("user:deactivated", () => this.emitChange("signedout", { reason: "deactivated" }));
    socket.on("video:start", (data) => this.onLive(data.room_id, { ...data, viewers: 0 }));
    socket.on("video:stop", (data) => this.onLive(data.room_id, null, data.reason));
    socket.on("video:viewers", ({ room_id: roomId, count }) => {
      const live = this.rooms.get(roomId)?.summary.live;
      if (live) this.onLive(roomId, { ...live, viewers: count });
    });
  }

  disconnect() {
    this.socket?.disconnect();
  }

  /**
   * Emits an event and answers its ack, or rejects with the ack's error (code and details).
   * @param {string} event
   * @param {object | unknown[]} payload
   * @param {number} [timeout]
   * @returns {Promise<any>}
   */
  call(event, payload, timeout = ACK_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      const socket = this.socket;
      if (!this.connected || !socket) {
        reject(Object.assign(new Error("Not connected."), { code: "offline" }));
        return;
      }
      // An array sends several arguments (video frames: the payload, then the bytes).
      const args = Array.isArray(payload) ? payload : [payload];
      socket.timeout(timeout).emit(event, ...args, (/** @type {Error | null} */ err, /** @type {any} */ ack) => {
        if (err) reject(Object.assign(new Error("No answer from the server."), { code: "timeout" }));
        else if (ack?.ok) resolve(ack);
        else {
          const error = ack?.error || {};
          reject(Object.assign(new Error(error.message || "Refused."), error));
        }
      });
    });
  }

  // --- connection and catch-up ---------------------------------------------------------

  onConnect() {
    this.connected = true;
    this.everConnected = true;
    const waiters = this.linkWaiters;
    this.linkWaiters = [];
    for (const resolve of waiters) resolve();
    this.emitChange("connection", { state: "syncing" });
    this.catchUp();
  }

  /** @param {string} reason */
  onDisconnect(reason) {
    this.connected = false;
    if (!this.snapshot) this.snapshot = this.heldIds();
    if (reason === "io client disconnect") return;
    this.emitChange("connection", { state: "reconnecting" });
    // The server ended this socket on purpose (its login revoked, by a new password or
    // from another device): socket.io does not retry that by itself. Trying again
    // either connects or is refused as unauthorized, which signs the page out.
    if (reason === "io server disconnect") this.socket?.connect();
  }

  /** @returns {Snapshot} */
  heldIds() {
    const ids = new Map();
    for (const room of this.rooms.values()) if (room.loaded) ids.set(room.id, room.lastId());
    return ids;
  }

  async catchUp() {
    const from = this.snapshot || this.heldIds();
    this.snapshot = from;
    try {
      await this.syncFrom(from, true);
      this.snapshot = null;
      this.emitChange("connection", { state: "online" });
    } catch (err) {
      // A server that asks for patience gets it; a link that reports itself up but
      // answers no sync is dead: start over.
      if (LATER_CODES.has(err.code)) {
        setTimeout(() => this.connected && this.catchUp(), retryAfterMs(err));
      } else if (this.connected) {
        this.socket?.disconnect().connect();
      }
    }
  }

  // Runs sync until no room says `more`; `full` also reconciles the list of rooms.
  /**
   * @param {Snapshot} from
   * @param {boolean} full
   */
  async syncFrom(from, full) {
    let starts = new Map(from);
    let first = true;
    while (first || starts.size) {
      const payload = { limit: SYNC_LIMIT, rooms: Object.fromEntries(starts) };
      const ack = await this.call("sync", payload, 5000);
      if (first && full) this.applyRooms(ack);
      first = false;
      const next = new Map();
      for (const [key, messages] of Object.entries(ack.messages)) {
        const room = this.rooms.get(Number(key));
        if (!room) continue;
        for (const message of messages) this.applyMessage(room, message, { live: false });
        if (ack.more[key] && messages.length) next.set(room.id, messages[messages.length - 1].id);
      }
      for (const message of ack.changes) {
        const room = this.rooms.get(message.room_id);
        if (room) this.applyMessage(room, message, { live: false });
      }
      for (const key of ack.reset) await this.reload(Number(key));
      for (const key of ack.removed) this.dropRoom(Number(key));
      starts = next;
    }
  }

  /** @param {{rooms: RoomSummary[], online: number[]}} ack */
  applyRooms(ack) {
    const seen = new Set();
    for (const summary of ack.rooms) {
      seen.add(summary.id);
      const room = this.rooms.get(summary.id);
      if (room) {
        room.summary = summary;
        room.lastSeq = Math.max(room.lastSeq, summary.last_seq);
      } else {
        this.rooms.set(summary.id, new RoomState(summary));
      }
    }
    for (const id of [...this.rooms.keys()]) if (!seen.has(id)) this.dropRoom(id);
    this.online = new Set(ack.online);
    this.emitChange("rooms");
    this.emitChange("presence", {});
  }

  /** @param {number} roomId */
  async reload(roomId) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    room.messages.clear();
    room.epoch += 1;
    room.loaded = false;
    await this.loadNewest(roomId);
  }

  // The newest page of a room from REST; from then on sync keeps it complete.
  /** @param {number} roomId */
  async loadNewest(roomId) {
    const room = this.rooms.get(roomId);
    if (!room || room.loaded) return;
    const epoch = room.epoch;
    const page = await api.history(roomId, { limit: 50 });
    if (room.epoch !== epoch) return;
    for (const message of page.messages) room.store(message);
    room.hasOlder = page.has_more;
    room.hasNewer = false;
    room.loaded = true;
    // Events that came while the page was on its way are in the map; anything between
    // the page and them is fetched by a sync from the page's newest id.
    const newest = page.messages.length ? page.messages[page.messages.length - 1].id : 0;
    this.emitChange("messages", { roomId, reset: true });
    if (this.connected) {
      try {
        await this.syncFrom(new Map([[roomId, newest]]), false);
      } catch {
        /* the next reconnect syncs it */
      }
    }
  }

  /** @param {number} roomId */
  async loadOlder(roomId) {
    const room = this.rooms.get(roomId);
    if (!room || !room.hasOlder) return 0;
    const epoch = room.epoch;
    const page = await api.history(roomId, { before: room.oldestId() || undefined, limit: 50 });
    if (room.epoch !== epoch) return 0;
    let added = 0;
    for (const message of page.messages) if (room.store(message)) added += 1;
    room.hasOlder = page.has_more;
    this.emitChange("older", { roomId, messages: page.messages });
    return added;
  }

  // A room's history around one message, in place of what was held (search hits).
  /**
   * @param {number} roomId
   * @param {number} messageId
   */
  async loadAround(roomId, messageId) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    const epoch = ++room.epoch;
    const page = await api.history(roomId, { around: messageId, limit: 50 });
    if (room.epoch !== epoch) return;
    room.epoch += 1;
    room.messages.clear();
    for (const message of page.messages) room.store(message);
    room.hasOlder = page.has_more;
    room.hasNewer = Boolean(page.has_newer);
    room.loaded = true;
    if (!room.hasNewer) await this.syncToNewest(room);
  }

  /** @param {number} roomId */
  async loadNewer(roomId) {
    const room = this.rooms.get(roomId);
    if (!room || !room.hasNewer) return 0;
    const epoch = room.epoch;
    const page = await api.history(roomId, { after: room.lastId(), limit: 50 });
    if (room.epoch !== epoch) return 0;
    let added = 0;
    for (const message of page.messages) if (room.store(message)) added += 1;
    room.hasNewer = page.has_more;
    if (!room.hasNewer) await this.syncToNewest(room);
    this.emitChange("newer", { roomId, messages: page.messages });
    return added;
  }

  // Reached the newest page: what was posted while it was on its way came as events that
  // were not held, so a sync from its newest id fetches them.
  /** @param {RoomState} room */
  async syncToNewest(room) {
    if (!this.connected) return;
    try {
      await this.syncFrom(new Map([[room.id, room.lastId()]]), false);
    } catch {
      /* the next reconnect syncs it */
    }
  }

  /** @param {number} roomId */
  dropRoom(roomId) {
    if (!this.rooms.delete(roomId)) return;
    this.emitChange("rooms");
    this.emitChange("left", { roomId });
  }

  // --- events ---------------------------------------------------------------------------

  /**
   * @param {{message: Message, seq: number}} event
   * @param {boolean} posted
   */
  onMessageEvent({ message, seq }, posted) {
    const room = this.rooms.get(message.room_id);
    if (!room) return;
    const summary = room.summary;
    const inTimeline = !threadOnly(message);
    if (inTimeline) summary.last_message_id = Math.max(summary.last_message_id || 0, message.id);
    if (room.loaded && seq > room.lastSeq + 1 && !this.snapshot) {
      // A number was skipped: something was missed, so sync from what is held.
      const from = new Map([[room.id, room.lastId()]]);
      this.syncFrom(from, false).catch(() => {});
    }
    room.lastSeq = Math.max(room.lastSeq, seq);
    summary.last_seq = room.lastSeq;
    if (
      inTimeline &&
      message.deleted &&
      message.author.id !== this.me.id &&
      message.id > summary.last_read_message_id &&
      summary.unread_count > 0
    ) {
      // The server counts unread messages that are not deleted; follow it.
      summary.unread_count -= 1;
      this.emitChange("rooms");
    }
    this.applyMessage(room, message, { live: posted });
  }

  // `live` means just posted: it may count as unread and be announced.
  /**
   * @param {RoomState} room
   * @param {Message} message
   * @param {{live: boolean}} how
   */
  applyMessage(room, message, { live }) {
    const isNew = !room.messages.has(message.id);
    if (message.client_id && message.author.id === this.me.id) {
      if (this.pending.delete(message.client_id)) this.emitChange("pending", { roomId: room.id });
    }
    if (message.thread_id) {
      // The thread panel takes every reply; one sent to the thread alone goes no further.
      this.emitChange("reply", { roomId: room.id, message, live });
      if (threadOnly(message)) return;
    }
    if (room.hasNewer && isNew && message.id > room.lastId()) {
      // Beyond the held page: counted, and held once paging reaches it.
      if (!message.deleted && message.author.id !== this.me.id && live) {
        if (message.id > room.summary.last_read_message_id) room.summary.unread_count += 1;
        this.stopTyping(room, message.author.id);
      }
      room.summary.last_message_id = Math.max(room.summary.last_message_id || 0, message.id);
      this.emitChange("rooms");
      this.emitChange("beyond", { roomId: room.id });
      return;
    }
    if (room.loaded || room.messages.size) {
      if (!room.store(message)) return;
    }
    if (isNew && !message.deleted && message.author.id !== this.me.id && live) {
      if (message.id > room.summary.last_read_message_id) room.summary.unread_count += 1;
      this.stopTyping(room, message.author.id);
      this.emitChange("rooms");
    }
    room.summary.last_message_id = Math.max(room.summary.last_message_id || 0, message.id);
    this.emitChange("message", { roomId: room.id, message, isNew, live });
  }

  // A reaction or a pin: the event carries what changed, not the message; the copy held
  // takes it, with the event's seq as its freshness, so a sync's older copy loses to it.
  /**
   * @param {{room_id: number, message_id: number, seq: number}} event
   * @param {Partial<Message>} change
   */
  onMessagePatch({ room_id: roomId, message_id: messageId, seq }, change) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    // The thread panel holds replies the room does not.
    this.emitChange("patch", { roomId, messageId, change, seq });
    if (room.loaded && seq > room.lastSeq + 1 && !this.snapshot) {
      this.syncFrom(new Map([[room.id, room.lastId()]]), false).catch(() => {});
    }
    room.lastSeq = Math.max(room.lastSeq, seq);
    room.summary.last_seq = room.lastSeq;
    const held = room.messages.get(messageId);
    if (!held || freshness(held) >= seq) return;
    const message = { ...held, ...change, changed_seq: seq };
    room.messages.set(messageId, message);
    this.emitChange("message", { roomId, message, isNew: false, live: false });
  }

  // Our own reaction, from its ack (which carries no seq): the event that follows agrees.
  /**
   * @param {number} messageId
   * @param {import("./shapes.js").Reaction[]} reactions
   */
  applyReactions(messageId, reactions) {
    this.emitChange("patch", { roomId: null, messageId, change: { reactions }, seq: 0 });
    for (const room of this.rooms.values()) {
      const held = room.messages.get(messageId);
      if (!held) continue;
      const message = { ...held, reactions };
      room.messages.set(messageId, message);
      this.emitChange("message", { roomId: room.id, message, isNew: false, live: false });
    }
  }

  /** @param {{room_id: number, message_id: number}} event */
  onMention({ room_id: roomId, message_id: messageId }) {
    const room = this.rooms.get(roomId);
    if (room && messageId > room.summary.last_read_message_id) {
      room.summary.mention_count = (room.summary.mention_count || 0) + 1;
      this.emitChange("rooms");
    }
    this.emitChange("mention", { roomId, messageId });
  }

  /**
   * @param {number} messageId
   * @param {string} emoji
   * @param {boolean} on
   */
  async react(messageId, emoji, on) {
    const ack = await this.call(on ? "reaction:add" : "reaction:remove", { message_id: messageId, emoji });
    this.applyReactions(ack.message_id, ack.reactions);
    return ack;
  }

  /**
   * @param {number} messageId
   * @param {boolean} pinned
   */
  async pin(messageId, pinned) {
    const ack = await this.call("message:pin", { message_id: messageId, pinned });
    const room = this.rooms.get(ack.message.room_id);
    if (room) this.applyMessage(room, ack.message, { live: false });
    this.emitChange("pins", { roomId: ack.message.room_id });
    return ack.message;
  }

  /** @param {RoomSummary} summary */
  onRoomUpdate(summary) {
    const room = this.rooms.get(summary.id);
    if (!room) return;
    Object.assign(room.summary, summary);
    this.emitChange("rooms");
    this.emitChange("room", { roomId: room.id });
  }

  /** @param {{room_id: number, member: Member}} event */
  async onMemberJoin({ room_id: roomId, member }) {
    const room = this.rooms.get(roomId);
    if (member.user.id === this.me.id && !room) {
      // A new membership (created, joined, invited, a new direct message): adopt it.
      await this.refreshRooms();
      this.emitChange("joined", { roomId });
      return;
    }
    if (room?.members) room.members.set(member.user.id, member);
    if (room) {
      room.summary.member_count = Math.max(room.summary.member_count, room.members?.size || 0);
      this.emitChange("members", { roomId });
    }
  }

  /** @param {{room_id: number, user_id: number, reason: string}} event */
  onMemberLeave({ room_id: roomId, user_id: userId, reason }) {
    if (userId === this.me.id) {
      const summary = this.rooms.get(roomId)?.summary;
      const name = summary?.kind === "direct" ? "a direct message" : summary?.name ? `#${summary.name}` : "a room";
      this.dropRoom(roomId);
      if (reason !== "left") this.emitChange("notice", { text: `You were ${reason} from ${name}.`, visible: true });
      return;
    }
    const room = this.rooms.get(roomId);
    if (!room) return;
    const member = room.members?.get(userId);
    // A ban keeps the member, as banned: moderators see them in the list (to lift it).
    if (member && reason === "banned") Object.assign(member, { banned: true, role: "member", rank: -1 });
    else room.members?.delete(userId);
    room.summary.member_count = Math.max(0, room.summary.member_count - 1);
    this.emitChange("members", { roomId });
  }

  // Someone's name or picture changed: every copy this page holds takes it, then the
  // views that show them are told ("user" for avatars and names in place, "rooms" for
  // the sidebar's direct messages, "room" for a direct room's header).
  /** @param {User} user */
  applyUser(user) {
    if (user.id === this.me.id) Object.assign(this.me, user);
    let peers = false;
    for (const room of this.rooms.values()) {
      const member = room.members?.get(user.id);
      if (member) member.user = { ...member.user, ...user };
      for (const message of room.messages.values()) {
        if (message.author.id === user.id) message.author = { ...message.author, ...user };
      }
      const live = room.summary.live;
      if (live?.broadcaster.id === user.id) live.broadcaster = { ...live.broadcaster, ...user };
      if (room.summary.peer?.id === user.id) {
        room.summary.peer = { ...room.summary.peer, ...user };
        peers = true;
        this.emitChange("room", { roomId: room.id });
      }
    }
    this.emitChange("user", { user });
    if (peers) this.emitChange("rooms");
    if (user.id === this.me.id) this.emitChange("me");
  }

  /** @param {{room_id: number, member: Member}} event */
  onMemberUpdate({ room_id: roomId, member }) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    room.members?.set(member.user.id, member);
    if (member.user.id === this.me.id) {
      room.summary.role = member.role;
      room.summary.muted_until = member.muted_until;
      this.emitChange("room", { roomId });
    }
    this.emitChange("members", { roomId });
  }

  /**
   * @param {number} roomId
   * @param {Live | null} live
   * @param {string} [reason]
   */
  onLive(roomId, live, reason) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    const wasLive = Boolean(room.summary.live);
    room.summary.live = live;
    if (wasLive !== Boolean(live)) this.emitChange("rooms");
    this.emitChange("live", { roomId, live, reason, wasLive });
  }

  /** @param {{room_id: number, user_id: number, expires_in?: number}} event */
  onTyping({ room_id: roomId, user_id: userId, expires_in: expiresIn }) {
    const room = this.rooms.get(roomId);
    if (!room || userId === this.me.id) return;
    clearTimeout(room.typing.get(userId));
    room.typing.set(
      userId,
      setTimeout(() => this.stopTyping(room, userId), (expiresIn || 5) * 1000),
    );
    this.emitChange("typing", { roomId });
  }

  /**
   * @param {RoomState} room
   * @param {number} userId
   */
  stopTyping(room, userId) {
    if (!room.typing.has(userId)) return;
    clearTimeout(room.typing.get(userId));
    room.typing.delete(userId);
    this.emitChange("typing", { roomId: room.id });
  }

  /** @param {{room_id: number, count: number, mention_count?: number, last_read_message_id: number}} event */
  onUnread({ room_id: roomId, count, mention_count: mentions, last_read_message_id: lastRead }) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    room.summary.unread_count = count;
    room.summary.mention_count = mentions ?? 0;
    room.summary.last_read_message_id = lastRead;
    this.emitChange("rooms");
  }

  async refreshRooms() {
    const ack = await this.call("sync", {});
    this.applyRooms(ack);
  }

  // --- actions --------------------------------------------------------------------------

  /**
   * @param {number} roomId
   * @param {string} body
   * @param {{threadId?: number, alsoToRoom?: boolean}} [thread] a reply, and where it goes
   * @returns {PendingSend}
   */
  send(roomId, body, thread = {}) {
    /** @type {PendingSend} */
    const entry = {
      clientId: newClientId(),
      roomId,
      body,
      state: "pending",
      error: null,
      refused: false,
      waiting: null,
      threadId: thread.threadId ?? null,
      alsoToRoom: Boolean(thread.alsoToRoom),
    };
    this.pending.set(entry.clientId, entry);
    this.emitChange("pending", { roomId });
    this.queue(entry);
    return entry;
  }

  // One send at a time: the server handles events concurrently, so messages typed in
  // quick succession would otherwise be stored in whichever order their commits won.
  /** @param {PendingSend} entry */
  queue(entry) {
    this.outbox = this.outbox.then(() => this.attempt(entry));
  }

  /** @param {string} clientId */
  retry(clientId) {
    const entry = this.pending.get(clientId);
    if (!entry) return;
    entry.state = "pending";
    entry.error = null;
    this.emitChange("pending", { roomId: entry.roomId });
    this.queue(entry);
  }

  /** @param {string} clientId */
  discard(clientId) {
    const entry = this.pending.get(clientId);
    if (entry && this.pending.delete(clientId)) this.emitChange("pending", { roomId: entry.roomId });
  }

  // Sends until the server stores the message or refuses it for good: a limit or a lost
  // link only delays it, so nothing typed is lost and later messages keep their order.
  /** @param {PendingSend} entry */
  async attempt(entry) {
    while (this.pending.has(entry.clientId)) {
      try {
        const ack = await this.call("message:send", {
          room_id: entry.roomId,
          body: entry.body,
          client_id: entry.clientId,
          ...(entry.threadId ? { thread_id: entry.threadId, also_to_room: Boolean(entry.alsoToRoom) } : {}),
        });
        const room = this.rooms.get(entry.roomId);
        if (room) this.applyMessage(room, ack.message, { live: true });
        this.pending.delete(entry.clientId);
        this.emitChange("pending", { roomId: entry.roomId });
        if (ack.not_notified?.length) {
          this.emitChange("notnotified", { roomId: entry.roomId, message: ack.message, userIds: ack.not_notified });
        }
        return;
      } catch (err) {
        if (!this.pending.has(entry.clientId)) return; // confirmed meanwhile by an event
        if (LATER_CODES.has(err.code)) {
          this.hold(entry, "later");
          await sleep(retryAfterMs(err));
        } else if (LINK_CODES.has(err.code)) {
          this.hold(entry, err.code === "offline" ? "offline" : "resending");
          await this.linkBack();
        } else {
          entry.state = "failed";
          entry.waiting = null;
          entry.error = fieldMessage(err);
          entry.refused = refusedForGood(err);
          this.emitChange("pending", { roomId: entry.roomId });
          return;
        }
      }
    }
  }

  /**
   * @param {PendingSend} entry
   * @param {PendingSend["waiting"]} waiting
   */
  hold(entry, waiting) {
    if (entry.waiting === waiting) return;
    entry.waiting = waiting;
    this.emitChange("pending", { roomId: entry.roomId });
  }

  // Resolves when a send is worth trying again: at the next connect, or soon when the
  // link says it is up (an answer lost on a live link).
  /** @returns {Promise<void>} */
  linkBack() {
    return new Promise((resolve) => {
      if (this.connected) setTimeout(resolve, RESEND_SOON_MS);
      else this.linkWaiters.push(resolve);
    });
  }

  // The room's timeline's own sends; a thread's are shown in its panel.
  /** @param {number | null} roomId */
  pendingIn(roomId) {
    return [...this.pending.values()].filter((entry) => entry.roomId === roomId && !entry.threadId);
  }

  /** @param {number} rootId */
  pendingInThread(rootId) {
    return [...this.pending.values()].filter((entry) => entry.threadId === rootId);
  }

  /**
   * @param {number} messageId
   * @param {string} body
   */
  edit(messageId, body) {
    return this.call("message:edit", { message_id: messageId, body });
  }

  /** @param {number} messageId */
  remove(messageId) {
    return this.call("message:delete", { message_id: messageId });
  }

  /** @param {number} roomId */
  typing(roomId) {
    const now = Date.now();
    if (!this.connected || now - (this.lastTypingSent.get(roomId) || 0) < TYPING_EVERY_MS) return;
    this.lastTypingSent.set(roomId, now);
    this.call("typing", { room_id: roomId }).catch(() => {});
  }

  // Moves the read mark to the newest message held; answers whether it moved.
  /** @param {number} roomId */
  async markRead(roomId) {
    const room = this.rooms.get(roomId);
    if (!room || !this.connected) return false;
    const newest = room.lastId();
    if (!newest || newest <= room.summary.last_read_message_id) {
      if ((room.summary.unread_count || room.summary.mention_count) && newest >= room.summary.last_message_id) {
        room.summary.unread_count = 0;
        room.summary.mention_count = 0;
        this.emitChange("rooms");
      }
      return false;
    }
    if (this.reading.has(roomId)) return false;
    const since = Date.now() - (this.readSent.get(roomId) || 0);
    if (since < READ_EVERY_MS) {
      this.readAgainIn(roomId, READ_EVERY_MS - since);
      return false;
    }
    this.reading.add(roomId);
    this.readSent.set(roomId, Date.now());
    try {
      const ack = await this.call("room:read", { room_id: roomId, message_id: newest });
      room.summary.last_read_message_id = ack.last_read_message_id;
      room.summary.unread_count = ack.unread_count;
      room.summary.mention_count = ack.mention_count ?? 0;
      this.emitChange("rooms");
      return true;
    } catch (err) {
      if (LATER_CODES.has(err.code)) this.readAgainIn(roomId, retryAfterMs(err));
      return false; // otherwise the next scroll, message or reconnect tries again
    } finally {
      this.reading.delete(roomId);
    }
  }

  // One later read mark for the room, however many were asked for meanwhile: the view
  // then marks up to whatever is newest by then, if the room is still in sight.
  /**
   * @param {number} roomId
   * @param {number} ms
   */
  readAgainIn(roomId, ms) {
    if (this.readLater.has(roomId)) return;
    const timer = setTimeout(() => {
      this.readLater.delete(roomId);
      this.emitChange("readdue", { roomId });
    }, ms);
    this.readLater.set(roomId, timer);
  }

  /**
   * @param {number} roomId
   * @param {"all" | "mentions" | "none"} level
   */
  async setNotificationLevel(roomId, level) {
    const member = await api.notificationLevel(roomId, level);
    const room = this.rooms.get(roomId);
    if (room) {
      room.summary.notification_level = member.notification_level;
      room.members?.set(member.user.id, member);
      this.emitChange("room", { roomId });
    }
    return member;
  }

  /** @param {number} roomId */
  async loadMembers(roomId) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    const { members } = await api.members(roomId);
    room.members = new Map(members.map((/** @type {Member} */ m) => [m.user.id, m]));
    this.emitChange("members", { roomId });
  }

  // May this user delete a message in this room? The server decides; this only hides
  // buttons that would be refused.
  /** @param {number | null} roomId */
  canModerate(roomId) {
    const room = roomId === null ? undefined : this.rooms.get(roomId);
    const role = room?.summary.role;
    return (
      role === "owner" ||
      role === "moderator" ||
      (this.me.permissions || []).some((p) => p === "MODERATE" || p === "ADMIN")
    );
  }
}
