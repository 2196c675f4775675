// @ts-check
// The video panel: watch a room's live broadcast (MJPEG in an <img>), or go live from
// the camera, sending JPEG frames as binary `video:frame` events, one in flight at a time.

import { $, displayName } from "./dom.js";

/** @typedef {import("./chat.js").Chat} Chat */

const FPS = 15;
const WIDTH = 640;
const HEIGHT = 480;
const QUALITY = 0.7;

export class VideoPanel {
  /** @param {Chat} chat */
  constructor(chat) {
    this.chat = chat;
    /** @type {number | null} */
    this.roomId = null;
    /** @type {MediaStream | null} the camera, while this page broadcasts */
    this.stream = null;
    /** @type {number | null} */
    this.broadcastRoom = null;
    this.message = "";
    /** the person closed the panel; a new broadcast or another room opens it again */
    this.dismissed = false;
    $("go-live").addEventListener("click", () => this.goLive());
    $("video-stop").addEventListener("click", () => this.stop());
    $("video-toggle").addEventListener("click", () => {
      this.dismissed = !this.dismissed;
      this.render();
    });
    $("video-close").addEventListener("click", () => this.close());
    chat.addEventListener("live", ({ detail }) => {
      if (detail.roomId === this.roomId && detail.live && !detail.wasLive) this.dismissed = false;
      if (detail.roomId === this.broadcastRoom && !detail.live) this.endCamera(detail.reason);
      if (detail.roomId === this.roomId) this.render();
    });
    chat.addEventListener("room", ({ detail }) => detail.roomId === this.roomId && this.render());
    chat.addEventListener("connection", () => this.render());
  }

  /** @param {number} roomId */
  show(roomId) {
    if (this.roomId !== roomId) {
      this.message = "";
      this.dismissed = false;
    }
    this.roomId = roomId;
    this.render();
  }

  hide() {
    this.roomId = null;
    this.render();
  }

  render() {
    const room = this.roomId === null ? null : this.chat.rooms.get(this.roomId);
    const live = room?.summary.live || null;
    const mine = Boolean(live && live.broadcaster.id === this.chat.me.id);
    // The server decides who may broadcast; this only hides a button bound to fail.
    const canPost = Boolean(room) && !room?.summary.archived;
    $("go-live").hidden = !canPost || Boolean(live) || this.broadcastRoom !== null;
    const open = Boolean(room) && Boolean(live || this.message) && !this.dismissed;
    $("video-panel").hidden = !open;
    $("video-toggle").hidden = !live;
    $("video-toggle").setAttribute("aria-expanded", String(open));
    $("video-status").textContent = this.message;
    const img = $("video-live", HTMLImageElement);
    if (live && !mine && open) {
      const src = `/rooms/${this.roomId}/live.mjpg`;
      if (img.getAttribute("src") !== src) img.src = src;
      img.alt = `Live video from ${displayName(live.broadcaster)}`;
      img.hidden = false;
    } else if (img.hasAttribute("src")) {
      img.removeAttribute("src"); // closes the stream, so this page stops counting as a viewer
      img.hidden = true;
    }
    $("video-preview", HTMLVideoElement).hidden = !mine;
    $("video-title").textContent = live
      ? mine
        ? "You are live"
        : `${displayName(live.broadcaster)} is live`
      : "";
    $("video-viewers").textContent = live ? `${live.viewers} watching` : "";
    $("video-stop").hidden = !live || !(mine || this.chat.canModerate(this.roomId));
  }

  get open() {
    return !$("video-panel").hidden;
  }

  // Closed by a person (its close control or Escape): a broadcast goes on without the
  // panel, which its header button brings back.
  close() {
    if (!this.open) return;
    this.dismissed = true;
    this.message = "";
    this.render();
    const toggle = $("video-toggle");
    if (!toggle.hidden) toggle.focus({ preventScroll: true });
    else $("composer-input").focus({ preventScroll: true });
  }

  async goLive() {
    const roomId = this.roomId;
    if (roomId === null || this.broadcastRoom !== null) return;
    this.message = "";
    this.dismissed = false;
    if (!navigator.mediaDevices?.getUserMedia) {
      this.fail("This browser cannot share a camera here (it needs HTTPS or localhost).");
      return;
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: { width: WIDTH, height: HEIGHT, frameRate: FPS },
        audio: false,
      });
    } catch (err) {
      this.fail(
        err.name === "NotAllowedError"
          ? "Camera permission was denied. Allow the camera for this site in the browser's settings, then try again."
          : err.name === "NotFoundError"
            ? "No camera was found."
            : `The camera could not start: ${err.message}`,
      );
      return;
    }
    const preview = $("video-preview", HTMLVideoElement);
    preview.srcObject = this.stream;
    await preview.play().catch(() => {});
    const settings = this.stream.getVideoTracks()[0].getSettings();
    const width = Math.min(settings.width || WIDTH, 1920);
    const height = Math.min(settings.height || HEIGHT, 1080);
    try {
      await this.chat.call("video:start", { room_id: roomId, width, height, fps: FPS });
    } catch (err) {
      this.endCamera();
      this.fail(`Could not go live: ${err.message}`);
      return;
    }
    this.broadcastRoom = roomId;
    this.render();
    this.sendFrames(roomId, width, height);
  }

  /**
   * @param {number} roomId
   * @param {number} width
   * @param {number} height
   */
  async sendFrames(roomId, width, height) {
    const canvas = $("video-canvas", HTMLCanvasElement);
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    if (!context) return;
    const preview = $("video-preview", HTMLVideoElement);
    let next = performance.now();
    while (this.broadcastRoom === roomId && this.stream) {
      context.drawImage(preview, 0, 0, width, height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
      if (!blob || this.broadcastRoom !== roomId) break;
      try {
        await this.chat.call("video:frame", [{ room_id: roomId }, await blob.arrayBuffer()]);
      } catch (err) {
        if (err.code === "rate_limited") {
          await sleep((err.details?.retry_after || 0.1) * 1000);
        } else if (err.code === "not_live" || err.code === "not_the_broadcaster" || err.code === "banned" || err.code === "muted") {
          this.endCamera(err.message);
          break;
        }
        // A timeout or a dropped link: keep trying; frames are not worth queueing.
      }
      next = Math.max(next + 1000 / FPS, performance.now());
      await sleep(next - performance.now());
    }
  }

  async stop() {
    const roomId = this.roomId;
    try {
      await this.chat.call("video:stop", { room_id: roomId });
    } catch (err) {
      this.fail(`Could not stop: ${err.message}`);
    }
  }

  /** @param {string} [reason] */
  endCamera(reason) {
    this.broadcastRoom = null;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    $("video-preview", HTMLVideoElement).srcObject = null;
    if (reason === "idle") this.message = "The broadcast ended: no frames reached the server.";
    this.render();
  }

  /** @param {string} message */
  fail(message) {
    this.message = message;
    this.render();
  }
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
