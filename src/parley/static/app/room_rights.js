// @ts-check
// Which room controls the page shows to whom: the rules of actions/access.py,
// actions/rooms.py and actions/moderation.py, mirrored so that nobody is offered what the
// server would refuse. The server still decides every request.

/** @typedef {import("./shapes.js").User} User */
/** @typedef {import("./shapes.js").RoomSummary} RoomSummary */
/** @typedef {import("./shapes.js").Member} Member */

/** @type {Record<string, number>} */
const RANK = { member: 0, moderator: 1, owner: 2 };
const MODERATOR = 1;

/**
 * @param {User} me
 * @param {string} permission
 */
const has = (me, permission) => (me.permissions || []).includes(permission);

/**
 * The moderation rank the server gives me in this room (actions/access.moderation_rank).
 * @param {User} me
 * @param {RoomSummary} room
 */
export function myRank(me, room) {
  if (has(me, "ADMIN")) return 4;
  if (has(me, "MODERATE")) return 3;
  return RANK[room.role] ?? -1;
}

/** Any member may add people to a room that is not direct and not archived. */
/** @param {RoomSummary} room */
export const canInvite = (room) => room.kind !== "direct" && !room.archived;

/**
 * Pin and unpin: the room's moderators and owners (and the server's staff); in a direct
 * room both people (actions/pins.py).
 * @param {User} me
 * @param {RoomSummary} room
 */
export const canPin = (me, room) => room.kind === "direct" || myRank(me, room) >= MODERATOR;

/** @param {RoomSummary} room */
export const canLeave = (room) => room.kind !== "direct";

/**
 * Rename, topic, archive: the room's moderators and owners, and global moderators.
 * @param {User} me
 * @param {RoomSummary} room
 */
export const canEditRoom = (me, room) => room.kind !== "direct" && myRank(me, room) >= MODERATOR;

/**
 * Private or public: the room's owners and administrators.
 * @param {User} me
 * @param {RoomSummary} room
 */
export const canChangeKind = (me, room) =>
  canEditRoom(me, room) && (room.role === "owner" || has(me, "ADMIN"));

/**
 * Naming moderators: the room's owners and global moderators.
 * @param {User} me
 * @param {RoomSummary} room
 */
export const canSetRoles = (me, room) =>
  room.kind !== "direct" && (room.role === "owner" || has(me, "MODERATE") || has(me, "ADMIN"));

/**
 * Whether I may mute, ban, remove (or unban) this member: moderators act only on lower
 * ranks and never on themselves; the room's creator, while an owner, answers only to the
 * server's staff.
 * @param {User} me
 * @param {RoomSummary} room
 * @param {Member} member
 */
export function canModerate(me, room, member) {
  if (room.kind === "direct" || member.user.id === me.id) return false;
  const rank = myRank(me, room);
  if (rank < MODERATOR) return false;
  if (member.banned) return true;
  if (rank <= member.rank) return false;
  const staff = has(me, "MODERATE") || has(me, "ADMIN");
  return !(member.user.id === room.created_by && member.role === "owner" && !staff);
}
