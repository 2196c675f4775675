// @ts-check
// The shapes the REST API and the Socket.IO events carry (docs/realtime.md), for the
// type check only: the page never loads this module, its types are imported by JSDoc.

/**
 * @typedef {object} User
 * @property {number} id
 * @property {string} username
 * @property {string | null} [display_name]
 * @property {string | null} [avatar_url]
 * @property {boolean} [active]
 * @property {string[]} [permissions]
 */

/**
 * @typedef {object} Message
 * @property {number} id
 * @property {number} room_id
 * @property {number} [seq]
 * @property {number} [changed_seq]
 * @property {string} body
 * @property {string} html
 * @property {string | null} [client_id]
 * @property {User} author
 * @property {string} created_at
 * @property {string | null} [edited_at]
 * @property {boolean} deleted
 * @property {"author" | "moderator" | null} [deleted_by]
 * @property {Reaction[]} [reactions]
 * @property {boolean} [pinned]
 * @property {number[]} [mentions] the users it names
 * @property {number | null} [thread_id] the root of the thread it replies in
 * @property {boolean} [also_to_room] a reply that is in the timeline too
 * @property {ThreadSummary | null} [thread] the replies to a root, null without any
 * @property {boolean} [mentions_room] it calls @room or @here
 */

/**
 * One emoji's reactions to a message.
 * @typedef {object} Reaction
 * @property {string} emoji
 * @property {number} count
 * @property {number[]} user_ids
 */

/**
 * A live broadcast in a room, with its viewer count.
 * @typedef {object} Live
 * @property {number} room_id
 * @property {User} broadcaster
 * @property {number} viewers
 */

/**
 * A room as its member sees it.
 * @typedef {object} RoomSummary
 * @property {number} id
 * @property {"public" | "private" | "direct"} kind
 * @property {string} name
 * @property {string} topic
 * @property {User | null} [peer]
 * @property {number} last_seq
 * @property {number} last_message_id
 * @property {number} last_read_message_id
 * @property {number} unread_count
 * @property {number} [mention_count] unread messages that mention me
 * @property {"all" | "mentions" | "none"} [notification_level]
 * @property {number} member_count
 * @property {"owner" | "moderator" | "member"} role
 * @property {string | null} [muted_until]
 * @property {boolean} [archived]
 * @property {number | null} [created_by]
 * @property {Live | null} [live]
 */

/**
 * @typedef {object} Member
 * @property {User} user
 * @property {"owner" | "moderator" | "member"} role
 * @property {string | null} [muted_until]
 * @property {boolean} [banned]
 * @property {number} rank moderation rank: 0 member, 1 room moderator, 2 owner, 3 global moderator, 4 administrator
 * @property {boolean} [seen] whether they have read anything in the room yet
 * @property {"all" | "mentions" | "none"} [notification_level]
 */

/**
 * A message typed on this page, until the server has it.
 * @typedef {object} PendingSend
 * @property {string} clientId
 * @property {number} roomId
 * @property {string} body
 * @property {"pending" | "failed"} state
 * @property {string | null} error
 * @property {boolean} refused the server refused it as it is: sending it again cannot help
 * @property {"later" | "offline" | "resending" | null} waiting
 * @property {number | null} [threadId] a reply in this thread (its root's id)
 * @property {boolean} [alsoToRoom] the reply goes to the room's timeline too
 */

export {};

/**
 * @typedef {object} ThreadSummary
 * @property {number} reply_count
 * @property {string} last_reply_at
 * @property {number[]} participant_ids
 */
