// @ts-check
// How long a message may be: the server's limit (schemas/fields.py, MessageBody), counted
// as the server counts, in code points of the trimmed text.

export const MAX_BODY = 10_000;
// The counter shows from here, so the limit never comes as a surprise.
export const COUNT_FROM = 9_000;

/** @param {string} text */
export const bodyLength = (text) => [...text.trim()].length;

/** @param {number} length */
export function counterText(length) {
  return `${length.toLocaleString()} / ${MAX_BODY.toLocaleString()}`;
}

/** @param {number} length */
export function tooLongText(length) {
  const over = length - MAX_BODY;
  return `This message is ${over.toLocaleString()} character${over === 1 ? "" : "s"} too long: a message holds at most ${MAX_BODY.toLocaleString()}. Shorten it or send it in parts.`;
}
