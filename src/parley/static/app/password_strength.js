// @ts-check
// A new password's strength, shown as it is typed: scored by zxcvbn, the JavaScript
// original of the library the server checks with, and under the server's rules (at least
// 10 characters, not holding the username, a score of 3 of 4). The server has the last
// word; this only tells early. zxcvbn is 800 KB, so it loads when first needed.

const SCRIPT = new URL("../vendor/zxcvbn.js", import.meta.url).href;
export const MIN_LENGTH = 10;
export const MIN_SCORE = 3;
const WORDS = ["very weak", "weak", "fair", "good", "strong"];

/** @typedef {(password: string, inputs?: string[]) => {score: number, feedback: {warning: string, suggestions: string[]}}} Zxcvbn */

/** @type {Promise<Zxcvbn> | null} */
let loading = null;

/** @returns {Promise<Zxcvbn>} */
function loadZxcvbn() {
  // zxcvbn's script defines it as a global.
  const scope = /** @type {{zxcvbn?: Zxcvbn}} */ (/** @type {unknown} */ (window));
  if (typeof scope.zxcvbn === "function") return Promise.resolve(scope.zxcvbn);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = SCRIPT;
      script.onload = () =>
        scope.zxcvbn ? resolve(scope.zxcvbn) : reject(new Error("the password scorer is missing"));
      script.onerror = () => {
        loading = null;
        reject(new Error("the password scorer did not load"));
      };
      document.head.append(script);
    });
  }
  return loading;
}

// {score, ok, text}: the verdict on a password, in words a person reads.
/**
 * @param {Zxcvbn} zxcvbn
 * @param {string} password
 * @param {string} username
 * @param {string} displayName
 * @returns {{score: number, ok: boolean, text: string}}
 */
export function judge(zxcvbn, password, username, displayName) {
  if (!password) return { score: 0, ok: false, text: `At least ${MIN_LENGTH} characters.` };
  const name = username.trim().toLowerCase();
  if (name.length >= 3 && password.toLowerCase().includes(name)) {
    return { score: 0, ok: false, text: "Too weak: it holds your username." };
  }
  const result = zxcvbn(password.slice(0, 72), [username, displayName].filter(Boolean));
  const score = result.score;
  if (password.length < MIN_LENGTH) {
    const more = MIN_LENGTH - password.length;
    const text = `Too short: ${more} more character${more === 1 ? "" : "s"} needed.`;
    return { score: Math.min(score, 1), ok: false, text };
  }
  const reasons = [result.feedback.warning, ...result.feedback.suggestions]
    .filter(Boolean)
    .map((text) => (/[.!?]$/.test(text) ? text : `${text}.`));
  if (score < MIN_SCORE) {
    return { score, ok: false, text: `Too weak (${WORDS[score]}). ${reasons.join(" ")}`.trim() };
  }
  return { score, ok: true, text: `Strength: ${WORDS[score]}.` };
}

// Keep `meter` and `hint` up to date while `input` (or the name fields) change.
/**
 * @param {{input: HTMLInputElement, username: HTMLInputElement, displayName: HTMLInputElement, meter: HTMLMeterElement, hint: HTMLElement}} fields
 */
export function bindStrengthMeter({ input, username, displayName, meter, hint }) {
  const initialHint = hint.textContent;
  let latest = 0;
  const update = async () => {
    const mine = ++latest;
    if (!input.value) {
      meter.hidden = true;
      meter.value = 0;
      hint.textContent = initialHint;
      delete hint.dataset.ok;
      return;
    }
    let zxcvbn;
    try {
      zxcvbn = await loadZxcvbn();
    } catch {
      return; // The server still checks; the page only loses its early word.
    }
    if (mine !== latest) return;
    const verdict = judge(zxcvbn, input.value, username.value, displayName.value);
    meter.hidden = false;
    meter.value = verdict.score;
    meter.dataset.score = String(verdict.score);
    hint.textContent = verdict.text;
    hint.dataset.ok = String(verdict.ok);
  };
  for (const field of [input, username, displayName]) field.addEventListener("input", update);
  input.addEventListener("focus", () => loadZxcvbn().catch(() => {}), { once: true });
  input.form?.addEventListener("reset", () => setTimeout(update));
  return update;
}
