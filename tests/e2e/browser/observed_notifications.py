"""Desktop notifications in a test's page, observed."""

# Records each desktop notification the page makes, and lets the test say whether the
# page is out of sight: the page's own code runs as it does, only observed.
OBSERVE_NOTIFICATIONS = """
(() => {
  window.__notifications = [];
  const Real = window.Notification;
  class Observed extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push({ title, body: (options || {}).body || "" });
    }
  }
  Object.defineProperty(Observed, "permission", { get: () => Real.permission });
  Observed.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Observed;
  window.__hidden = false;
  Object.defineProperty(Document.prototype, "visibilityState", {
    get: () => (window.__hidden ? "hidden" : "visible"),
  });
})();
"""
