"""The server's side of the readers' feedback: ``POST /events`` bounded per client, and the page snippet.

Pages report impressions and clicks in batches (:mod:`recommender.feedback.events` checks and stores
them). A client address may send ``rate`` batches a second on average, in bursts of up to ``burst``;
beyond that it gets 429 with ``Retry-After``. The address only keys this limit, in memory; it is never
stored. ``SCRIPT`` is the snippet a page loads (``GET /feedback.js``): it reports each "Similar posts"
block when half of it has been on screen, and each click on one of its links.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

__all__ = ["SCRIPT", "RateLimit"]


class RateLimit:
    """A token bucket per client key: ``rate`` requests a second, ``burst`` at once (0 = no limit)."""

    def __init__(self, rate: float, burst: float | None = None, *, keys: int = 10_000) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, 4 * rate)
        self._keys = keys
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait(self, key: str) -> float:
        """0 when ``key`` may go on now (and a token is taken), else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                tokens -= 1.0
                waited = 0.0
            else:
                waited = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self._keys:  # the least recently seen clients are forgotten
                self._buckets.popitem(last=False)
        return waited


# The snippet is written for readers' browsers: no dependencies, no cookies. The visitor id is a random
# string kept in the site's own localStorage (the server only ever stores a hash of it with a salt of the
# day); a browser that sends Global Privacy Control or Do Not Track gets no id at all.
SCRIPT = r"""// recommender feedback: reports "Similar posts" impressions and clicks to POST /events.
// <script src="https://RELATED-HOST/feedback.js" defer></script> on a page with a block exported or
// served by recommender (class "similar-posts", or any element with data-similar-posts).
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? script.src : location.href;
  var endpoint = (script && script.dataset.events) || new URL("events", base).href;
  var private_ = navigator.globalPrivacyControl === true || navigator.doNotTrack === "1";
  function visitor() {
    if (private_) return null;
    try {
      var id = localStorage.getItem("recommender-visitor");
      if (!id) {
        id = Array.from(crypto.getRandomValues(new Uint8Array(16)), function (b) {
          return b.toString(16).padStart(2, "0");
        }).join("");
        localStorage.setItem("recommender-visitor", id);
      }
      return id;
    } catch (error) {
      return null;
    }
  }
  var queue = [];
  var timer = null;
  function batchId() {
    return Array.from(crypto.getRandomValues(new Uint8Array(12)), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }
  function flush() {
    timer = null;
    while (queue.length) {
      var body = JSON.stringify({ batch: batchId(), events: queue.splice(0, 100) });
      // text/plain keeps the beacon a simple request (no CORS preflight); the server reads it as JSON.
      var blob = new Blob([body], { type: "text/plain" });
      var sent = navigator.sendBeacon && navigator.sendBeacon(endpoint, blob);
      if (!sent) fetch(endpoint, { method: "POST", body: body, keepalive: true, mode: "no-cors" });
    }
  }
  function push(event, now) {
    queue.push(event);
    if (now) flush();
    else if (!timer) timer = setTimeout(flush, 1000);
  }
  function events(block, type, only) {
    var variantHolder = block.closest("[data-variant]");
    var variant = block.dataset.variant || (variantHolder && variantHolder.dataset.variant) || null;
    var items = block.querySelectorAll("li[data-article-id]");
    var found = [];
    items.forEach(function (item, position) {
      if (only && item !== only) return;
      found.push({
        type: type,
        article_id: block.dataset.articleId,
        link_id: item.dataset.articleId,
        rank: position + 1,
        reason: item.dataset.reason || "similar",
        variant: variant,
        visitor: visitor()
      });
    });
    return found;
  }
  function watch(block) {
    if (!block.dataset.articleId || block.dataset.recommenderWatched) return;
    block.dataset.recommenderWatched = "1";
    var seen = new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) {
        seen.disconnect();
        events(block, "impression").forEach(function (event) { push(event, false); });
      }
    }, { threshold: 0.5 });
    seen.observe(block);
    block.addEventListener("click", function (click) {
      var item = click.target.closest("li[data-article-id]");
      if (!item || !click.target.closest("a")) return;
      events(block, "click", item).forEach(function (event) { push(event, true); });
    });
  }
  function scan() {
    var blocks = ".similar-posts[data-article-id], [data-similar-posts][data-article-id]";
    document.querySelectorAll(blocks).forEach(watch);
  }
  addEventListener("pagehide", flush);
  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
  scan();
})();
"""
