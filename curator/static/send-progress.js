// The progress of a send to the list, on the sending page in the editor area.
//
// An enhancement only: the page shows the send as it is whenever it is loaded.
// While the send runs, this asks the server for its state (…/envoi/etat, JSON)
// every POLL_MS, updates the progress bar and the summary (a status region,
// read out by screen readers), and reloads the page once the send has ended,
// so that its outcome is shown as the server writes it.
(function () {
  "use strict";

  var POLL_MS = 1000;
  var MAX_FAILURES = 30; // in a row: the server is gone, stop asking
  var MAX_POLLS = 6 * 3600; // six hours of sending at most, then the page's own link

  var box = document.getElementById("send-progress");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("progress");
  var summary = box.querySelector("[data-summary]");
  var polls = 0;
  var failures = 0;

  function later() {
    polls += 1;
    if (polls <= MAX_POLLS && failures < MAX_FAILURES) {
      window.setTimeout(poll, POLL_MS);
    }
  }

  // Counts as the page's language writes them (« 1 200 » in French).
  var number = window.Intl ? new Intl.NumberFormat(document.documentElement.lang || undefined) : null;
  function count(n) { return number ? number.format(n) : String(n); }

  function show(state) {
    if (bar && state.total) {
      bar.max = state.total;
      bar.value = state.done;
      bar.textContent = count(state.done) + " / " + count(state.total);
    }
    if (summary && state.summary && summary.textContent !== state.summary) {
      summary.textContent = state.summary;
    }
  }

  function poll() {
    window
      .fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(
        function (state) {
          failures = 0;
          show(state);
          if (state.state === "running" && !state.stale) {
            later();
          } else {
            window.location.reload();
          }
        },
        function () {
          failures += 1;
          later();
        }
      );
  }

  later();
})();
