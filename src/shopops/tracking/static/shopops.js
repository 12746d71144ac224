/* shopops tracking script (ours, no third-party code).
 * <script src="/t/shopops.js" data-endpoint="/t/batch"></script>
 * Sends page_view on load (URL with its UTM parameters, referrer), exposes
 * shopops.track(event, props) and shopops.identify(storefrontKey); events are batched and sent
 * with navigator.sendBeacon on page hide (fetch keepalive as fallback). */
(function (w, d) {
  "use strict";
  var me = d.currentScript;
  var endpoint = (me && me.getAttribute("data-endpoint")) || "/t/batch";
  var base = endpoint.replace(/\/t\/batch$/, "");
  var KEY = "shopops_distinct_id";
  var queue = [];
  var timer = null;

  function uuid() {
    if (w.crypto && w.crypto.randomUUID) return w.crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = (Math.random() * 16) | 0;
      return (c === "x" ? r : (r & 3) | 8).toString(16);
    });
  }

  function distinctId() {
    var id = null;
    try { id = w.localStorage.getItem(KEY); } catch (e) { /* storage blocked */ }
    if (!id) {
      id = "anon-" + uuid();
      try { w.localStorage.setItem(KEY, id); } catch (e) { /* keep it for this page */ }
    }
    return id;
  }

  function flush() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!queue.length) return;
    var body = JSON.stringify({ batch: queue.splice(0, 1000), sent_at: new Date().toISOString() });
    // text/plain: a "simple" request, so no CORS preflight is needed.
    var blob = new Blob([body], { type: "text/plain" });
    if (!(navigator.sendBeacon && navigator.sendBeacon(endpoint, blob))) {
      fetch(endpoint, { method: "POST", body: body, keepalive: true }).catch(function () {});
    }
    if (queue.length) flush();
  }

  function track(event, props) {
    var p = { url: w.location.href, path: w.location.pathname };
    for (var k in props || {}) if (Object.prototype.hasOwnProperty.call(props, k)) p[k] = props[k];
    // uuid makes a retried batch count once.
    queue.push({ event: event, distinct_id: distinctId(), uuid: uuid(),
                 timestamp: new Date().toISOString(), properties: p });
    if (queue.length >= 50) flush();
    else if (!timer) timer = setTimeout(flush, 5000);
  }

  function identify(storefrontKey) {
    flush();
    return fetch(base + "/t/identify", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + storefrontKey },
      body: JSON.stringify({ distinct_id: distinctId() })
    });
  }

  w.shopops = { track: track, identify: identify, flush: flush, distinctId: distinctId };
  d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") flush(); });
  w.addEventListener("pagehide", flush);
  track("page_view", { referrer: d.referrer, title: d.title });
})(window, document);
