// Live updates for the tracking page: the server pushes the re-rendered <main> over
// server-sent events (same origin, no framework). Without JavaScript the page is
// complete and refreshes itself now and then.
(function () {
  "use strict";
  var main = document.getElementById("tracking");
  var live = document.getElementById("live");
  if (!main || !live || !window.EventSource) {
    return;
  }
  var after = main.getAttribute("data-after") || "";
  var url = window.location.pathname.replace(/\/+$/, "") + "/events";
  if (after) {
    url += "?after=" + encodeURIComponent(after);
  }
  var source = new EventSource(url);
  function say(text) {
    live.textContent = text;
  }
  source.addEventListener("open", function () {
    say("Live: changes appear here as they happen.");
  });
  source.addEventListener("update", function (event) {
    var template = document.createElement("template");
    template.innerHTML = event.data;
    main.replaceChildren(template.content);
    say("Updated at " + new Date().toLocaleTimeString() + ".");
  });
  source.addEventListener("gone", function () {
    source.close();
    say("This link no longer opens the order.");
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      say("Live updates stopped. Reload the page for the latest.");
    } else {
      say("Reconnecting…");
    }
  });
})();
