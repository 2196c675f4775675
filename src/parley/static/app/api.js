// @ts-check
// The public REST API, called with the session cookie and its CSRF token.

const PREFIX = "/api/v1";
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** @type {string | null} */
let csrfToken = null;

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{code?: string, message?: string, details?: Record<string, any>} | undefined} error
   */
  constructor(status, error) {
    super(error?.message || `The server answered ${status}.`);
    this.status = status;
    this.code = error?.code || "http_error";
    this.details = error?.details || {};
  }
}

/** @param {string} token */
export function setCsrfToken(token) {
  csrfToken = token;
}

/**
 * Calls the API; answers the JSON body (null for 204), throws ApiError for an error.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function request(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!SAFE.has(method) && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response;
  try {
    response = await fetch(PREFIX + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { code: "network_error", message: "Cannot reach the server." });
  }
  if (response.status === 204) return null;
  /** @type {any} */
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data?.error);
  return data;
}

/**
 * Sends a file as the raw body (a picture); answers like `request`.
 * @param {string} method
 * @param {string} path
 * @param {Blob} file
 * @returns {Promise<any>}
 */
export async function upload(method, path, file) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json", "Content-Type": file.type || "application/octet-stream" };
  if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response;
  try {
    response = await fetch(PREFIX + path, { method, headers, credentials: "same-origin", body: file });
  } catch {
    throw new ApiError(0, { code: "network_error", message: "Cannot reach the server." });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data?.error);
  return data;
}

export const api = {
  session: () => request("GET", "/auth/session"),
  login: (/** @type {string} */ username, /** @type {string} */ password, /** @type {string | undefined} */ code) =>
    request("POST", "/auth/session", code ? { username, password, code } : { username, password }),
  register: (/** @type {Record<string, string>} */ fields) => request("POST", "/auth/session/register", fields),
  logout: () => request("DELETE", "/auth/session"),
  history: (/** @type {number} */ roomId, /** @type {{before?: number, after?: number, around?: number, limit?: number}} */ { before, after, around, limit = 50 } = {}) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before) query.set("before", String(before));
    if (after !== undefined) query.set("after", String(after));
    if (around) query.set("around", String(around));
    return request("GET", `/rooms/${roomId}/messages?${query}`);
  },
  room: (/** @type {number} */ roomId) => request("GET", `/rooms/${roomId}`),
  members: (/** @type {number} */ roomId) => request("GET", `/rooms/${roomId}/members`),
  directory: () => request("GET", "/rooms/directory"),
  createRoom: (/** @type {Record<string, string>} */ fields) => request("POST", "/rooms", fields),
  joinRoom: (/** @type {number} */ roomId) => request("POST", `/rooms/${roomId}/join`),
  users: (/** @type {string} */ q) => request("GET", `/users?${new URLSearchParams({ q, limit: "20" })}`),
  openDirect: (/** @type {number} */ userId) => request("POST", "/dm", { user_id: userId }),
  twoFactor: () => request("GET", "/users/me/2fa"),
  startTwoFactor: (/** @type {string} */ password) => request("POST", "/users/me/2fa", { password }),
  confirmTwoFactor: (/** @type {string} */ code) => request("POST", "/users/me/2fa/confirm", { code }),
  disableTwoFactor: (/** @type {string} */ password, /** @type {string} */ code) => request("DELETE", "/users/me/2fa", { password, code }),
  newRecoveryCodes: (/** @type {string} */ code) => request("POST", "/users/me/2fa/recovery-codes", { code }),
  updateRoom: (/** @type {number} */ roomId, /** @type {Record<string, unknown>} */ fields) => request("PATCH", `/rooms/${roomId}`, fields),
  leaveRoom: (/** @type {number} */ roomId) => request("POST", `/rooms/${roomId}/leave`),
  invite: (/** @type {number} */ roomId, /** @type {number} */ userId) => request("POST", `/rooms/${roomId}/members`, { user_id: userId }),
  setMemberRole: (/** @type {number} */ roomId, /** @type {number} */ userId, /** @type {string} */ role) =>
    request("PATCH", `/rooms/${roomId}/members/${userId}`, { role }),
  removeMember: (/** @type {number} */ roomId, /** @type {number} */ userId) => request("DELETE", `/rooms/${roomId}/members/${userId}`),
  mute: (/** @type {number} */ roomId, /** @type {number} */ userId, /** @type {number} */ minutes) =>
    request("POST", `/rooms/${roomId}/members/${userId}/mute`, { minutes }),
  unmute: (/** @type {number} */ roomId, /** @type {number} */ userId) => request("DELETE", `/rooms/${roomId}/members/${userId}/mute`),
  ban: (/** @type {number} */ roomId, /** @type {number} */ userId) => request("POST", `/rooms/${roomId}/members/${userId}/ban`),
  unban: (/** @type {number} */ roomId, /** @type {number} */ userId) => request("DELETE", `/rooms/${roomId}/members/${userId}/ban`),
  search: (/** @type {string} */ q) => request("GET", `/search?${new URLSearchParams({ q, limit: "50" })}`),
  sessions: () => request("GET", "/auth/sessions"),
  revokeSession: (/** @type {number} */ id) => request("DELETE", `/auth/sessions/${id}`),
  tokens: () => request("GET", "/auth/tokens"),
  revokeToken: (/** @type {number} */ id) => request("DELETE", `/auth/tokens/${id}`),
  updateMe: (/** @type {Record<string, string>} */ fields) => request("PATCH", "/users/me", fields),
  setAvatar: (/** @type {Blob} */ file, /** @type {{x: number, y: number, size: number}} */ crop) =>
    upload("PUT", `/users/me/avatar?${new URLSearchParams({ x: String(crop.x), y: String(crop.y), size: String(crop.size) })}`, file),
  removeAvatar: () => request("DELETE", "/users/me/avatar"),
  pins: (/** @type {number} */ roomId) => request("GET", `/rooms/${roomId}/pins`),
  editHistory: (/** @type {number} */ messageId) => request("GET", `/messages/${messageId}/history`),
  mentions: (/** @type {number | undefined} */ before) => {
    const query = new URLSearchParams({ limit: "50" });
    if (before) query.set("before", String(before));
    return request("GET", `/mentions?${query}`);
  },
  thread: (/** @type {number} */ messageId, /** @type {number} */ after) =>
    request("GET", `/messages/${messageId}/thread?${new URLSearchParams({ after: String(after), limit: "50" })}`),
  threads: (/** @type {number | undefined} */ before) => {
    const query = new URLSearchParams({ limit: "50" });
    if (before) query.set("before", String(before));
    return request("GET", `/threads?${query}`);
  },
  threadRead: (/** @type {number} */ rootId, /** @type {number} */ lastReadId) =>
    request("POST", `/messages/${rootId}/thread/read`, { last_read_id: lastReadId }),
  notificationLevel: (/** @type {number} */ roomId, /** @type {string} */ level) =>
    request("PATCH", `/rooms/${roomId}/notifications`, { level }),
};
