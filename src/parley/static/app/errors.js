// @ts-check
// Errors in words for people. The API explains a refused input field by field in
// pydantic's terms ("password: String should have at least 10 characters"); every form
// of the page shows the sentence this module makes of it instead ("Passwords need at
// least 10 characters.").

/** @typedef {{field: string, message: string, type?: string}} FieldError */
/** @typedef {{message: string, code?: string, details?: {fields?: FieldError[]}}} ErrorLike */

/** What a field is called in a sentence: one, and several (for rules about all of them). */
/** @type {Record<string, [string, string]>} */
const NOUNS = {
  username: ["username", "Usernames"],
  password: ["password", "Passwords"],
  old_password: ["current password", "Passwords"],
  display_name: ["display name", "Display names"],
  name: ["name", "Names"],
  topic: ["topic", "Topics"],
  body: ["message", "Messages"],
  code: ["code", "Codes"],
  q: ["search", "Searches"],
  kind: ["kind of room", "Kinds of room"],
  role: ["role", "Roles"],
};

/** @param {string} field the API's dotted path, e.g. "payload.body" */
function nouns(field) {
  const key = field.split(".").pop() ?? field;
  return NOUNS[key] ?? [key.replaceAll("_", " "), `${capitalize(key.replaceAll("_", " "))}s`];
}

/** @param {string} text */
const capitalize = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/** @param {string} message */
const numberIn = (message) => {
  const match = message.match(/(\d+)/);
  return match ? Number(match[1]) : null;
};

/**
 * One field's refusal as a sentence.
 * @param {FieldError} error
 * @returns {string}
 */
export function fieldSentence({ field, message, type = "" }) {
  const [one, all] = nouns(field);
  const limit = numberIn(message);
  const characters = (/** @type {number} */ n) => `${n.toLocaleString()} character${n === 1 ? "" : "s"}`;
  if (type === "missing" || ((type === "string_too_short" || type === "too_short") && limit === 1)) {
    return `Enter a ${one}.`;
  }
  if ((type === "string_too_short" || type === "too_short") && limit !== null) {
    return `${all} need at least ${characters(limit)}.`;
  }
  if ((type === "string_too_long" || type === "too_long") && limit !== null) {
    return `${all} can be at most ${characters(limit)} long.`;
  }
  if (type === "string_pattern_mismatch") return `That ${one} holds characters it may not.`;
  if (type === "value_error") {
    const reason = message.replace(/^Value error, /, "").replace(/\.$/, "");
    return `The ${one} ${reason}.`;
  }
  if (type.endsWith("_type") || type.endsWith("_parsing")) return `The ${one} is not in the expected form.`;
  return `Check the ${one}.`;
}

/**
 * An error in words: the first refused field as a sentence, or the server's message.
 * @param {ErrorLike} err
 * @returns {string}
 */
export function fieldMessage(err) {
  const field = err.details?.fields?.[0];
  return field ? fieldSentence(field) : err.message;
}

/**
 * Whether sending the same input again can never succeed (it was refused as it is).
 * @param {{code?: string}} err
 */
export function refusedForGood(err) {
  return err.code === "validation_error";
}
