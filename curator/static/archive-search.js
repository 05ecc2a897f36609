/* curator archive: search the issues in the browser, without a server.
 * The index (recherche/index.js) sets window.CURATOR_SEARCH to a list of
 * [title, text, url from the archive's root, issue, section] entries, with French typography
 * already (typographic apostrophes, no-break spaces): they are shown as they are.
 * Results are written with textContent only: nothing from the index is ever parsed as HTML. */
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  var input = document.getElementById("q");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  if (!form || !input || !status || !list) { return; }
  var LIMIT = 50;
  var root = "../";
  // Counts as the page's language writes them (« 1 200 » in French).
  var number = window.Intl ? new Intl.NumberFormat(document.documentElement.lang || undefined) : null;
  function count(n) { return number ? number.format(n) : String(n); }

  function fold(text) {
    return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function words(text) {
    return fold(text).split(/[^\p{L}\p{N}]+/u).filter(function (w) { return w.length > 0; });
  }
  var docs = (window.CURATOR_SEARCH || []).map(function (d, i) {
    return { title: d[0], text: d[1], url: d[2], issue: d[3], section: d[4], order: i,
             t: " " + words(d[0]).join(" "), all: " " + words(d[0] + " " + d[1] + " " + d[4]).join(" ") };
  });

  function message(name, values) {
    var text = form.getAttribute("data-" + name) || "";
    Object.keys(values).forEach(function (key) { text = text.split("{" + key + "}").join(values[key]); });
    return text;
  }
  function snippet(text, terms) {
    var folded = fold(text);
    var at = -1;
    terms.forEach(function (term) { var i = folded.indexOf(term); if (i >= 0 && (at < 0 || i < at)) { at = i; } });
    if (text.length <= 220) { return text; }
    var start = Math.max(0, at - 60);
    var piece = text.slice(start, start + 220);
    return (start > 0 ? "…" : "") + piece + (start + 220 < text.length ? "…" : "");
  }

  function run(query) {
    list.textContent = "";
    var terms = words(query);
    if (!terms.length) { status.textContent = query ? message("empty", {}) : ""; return; }
    var found = [];
    docs.forEach(function (d) {
      var score = 0;
      for (var k = 0; k < terms.length; k++) {
        var word = " " + terms[k];
        if (d.all.indexOf(word) < 0) { return; }
        score += d.t.indexOf(word) >= 0 ? 3 : 1;
      }
      found.push([score, d]);
    });
    found.sort(function (a, b) { return b[0] - a[0] || a[1].order - b[1].order; });
    var shown = found.slice(0, LIMIT);
    shown.forEach(function (pair) {
      var d = pair[1];
      var item = document.createElement("li");
      var heading = document.createElement("h2");
      var link = document.createElement("a");
      link.href = root + d.url;
      link.textContent = d.title;
      heading.appendChild(link);
      var meta = document.createElement("p");
      meta.className = "meta";
      meta.textContent = d.issue + (d.section ? " · " + d.section : "");
      item.appendChild(heading);
      item.appendChild(meta);
      if (d.text) {
        var text = document.createElement("p");
        text.textContent = snippet(d.text, terms);
        item.appendChild(text);
      }
      list.appendChild(item);
    });
    var values = { query: query.trim(), count: count(found.length), shown: count(shown.length) };
    var line = message(found.length === 0 ? "none" : found.length === 1 ? "one" : "many", values);
    if (found.length > shown.length) { line += " " + message("more", values); }
    status.textContent = line;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    run(input.value);
    try {
      var url = new URL(window.location.href);
      url.searchParams.set("q", input.value);
      window.history.replaceState(null, "", url.toString());
    } catch (e) { /* a file:// page may refuse it: the results are shown anyway */ }
  });
  var initial = new URLSearchParams(window.location.search).get("q");
  if (initial) { input.value = initial; run(initial); }
}());
