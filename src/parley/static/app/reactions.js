// @ts-check
// A message's reactions: one toggle button per emoji (pressed when one of them is mine)
// with its count, and who reacted in a tooltip on hover or focus (and in its name for a
// screen reader); a last button adds another.

import { h } from "./dom.js";

/** @typedef {import("./shapes.js").Message} Message */

const NAMES_SHOWN = 10;

/**
 * @param {string[]} names
 */
export function nameList(names) {
  const shown = names.slice(0, NAMES_SHOWN);
  const more = names.length - shown.length;
  if (more > 0) shown.push(`${more} more`);
  if (shown.length <= 1) return shown.join("");
  return `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
}

/**
 * The row under a message, or null when it has none (the add button then lives in the
 * message's actions only).
 * @param {Message} message
 * @param {number} meId
 * @param {(userId: number) => string} nameOf
 * @param {boolean} mayReact
 */
export function reactionBar(message, meId, nameOf, mayReact) {
  const reactions = message.reactions ?? [];
  if (!reactions.length || message.deleted) return null;
  return h(
    "div",
    { class: "reactions", role: "group", "aria-label": "Reactions" },
    reactions.map((reaction) => {
      const mine = reaction.user_ids.includes(meId);
      const names = [...(mine ? ["You"] : []), ...reaction.user_ids.filter((id) => id !== meId).map(nameOf)];
      const who = `${nameList(names)} reacted with ${reaction.emoji}`;
      return h(
        "span",
        { class: "reaction-wrap" },
        h(
          "button",
          {
            type: "button",
            class: `reaction${mine ? " mine" : ""}`,
            "aria-pressed": String(mine),
            "aria-label": `${reaction.emoji} ${reaction.count}: ${who}`,
            // Still focusable where I may not react (muted, archived): who reacted shows.
            "aria-disabled": mayReact ? undefined : "true",
            dataset: { action: "toggle-reaction", emoji: reaction.emoji },
          },
          h("span", { class: "reaction-emoji", "aria-hidden": "true" }, reaction.emoji),
          h("span", { class: "reaction-count", "aria-hidden": "true" }, String(reaction.count)),
        ),
        h("span", { class: "reaction-who", "aria-hidden": "true" }, who),
      );
    }),
    mayReact
      ? h(
          "button",
          { type: "button", class: "reaction add-reaction", "aria-label": "Add reaction", title: "Add reaction", dataset: { action: "react" } },
          h("span", { "aria-hidden": "true" }, "☺+"),
        )
      : null,
  );
}
