// The ticket inbox refreshes itself: every 10 seconds it asks whether anything changed,
// and if so fetches the rows again. No other script runs on the dashboard.
(function () {
  "use strict";
  var table = document.getElementById("inbox");
  if (!table) { return; }
  var newest = table.getAttribute("data-newest");
  var waiting = null;
  function refresh() {
    fetch(table.getAttribute("data-rows"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) { table.tBodies[0].innerHTML = html; } });
  }
  function poll() {
    fetch(table.getAttribute("data-poll"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (news) {
        if (!news) { return; }
        if (String(news.newest) !== newest || (waiting !== null && news.waiting !== waiting)) {
          if (String(news.newest) !== newest) { document.getElementById("news").hidden = false; }
          newest = String(news.newest);
          refresh();
        }
        waiting = news.waiting;
      })
      .catch(function () { /* the next poll tries again */ });
  }
  window.setInterval(poll, 10000);
}());
