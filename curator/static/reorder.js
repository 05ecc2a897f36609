// Drag and drop reordering of the picks on an issue's page in the editor area.
//
// An enhancement only: the "Move up" / "Move down" buttons do the same without
// JavaScript. A drop fills the page's reorder form (the same POST, CSRF token
// and issue version as the buttons) and submits it, so the server checks and
// refuses a stale edit exactly as it does for the buttons.
(function () {
  "use strict";

  var form = document.getElementById("reorder-form");
  if (!form || !("draggable" in document.createElement("li"))) {
    return;
  }
  var dragged = null;
  var marked = null;

  function picksOf(zone) {
    return Array.prototype.filter.call(zone.querySelectorAll("[data-pick]"), function (li) {
      return li !== dragged;
    });
  }

  function unmark() {
    if (marked) {
      marked.classList.remove("drop-before", "drop-after", "drop-end");
      marked = null;
    }
  }

  // Where a drop at the pointer would put the dragged pick: [element to mark, class, position].
  function target(zone, event) {
    var picks = picksOf(zone);
    for (var i = 0; i < picks.length; i += 1) {
      var box = picks[i].getBoundingClientRect();
      if (event.clientY < box.top + box.height / 2) {
        return [picks[i], "drop-before", i + 1];
      }
    }
    if (picks.length) {
      return [picks[picks.length - 1], "drop-after", picks.length + 1];
    }
    return [zone, "drop-end", 1];
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-pick]"), function (li) {
    li.setAttribute("draggable", "true");
    li.addEventListener("dragstart", function (event) {
      dragged = li;
      li.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", li.getAttribute("data-pick"));
    });
    li.addEventListener("dragend", function () {
      li.classList.remove("dragging");
      unmark();
      dragged = null;
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("[data-drop-section]"), function (zone) {
    zone.addEventListener("dragover", function (event) {
      if (!dragged) {
        return;
      }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      var t = target(zone, event);
      if (marked !== t[0] || !marked.classList.contains(t[1])) {
        unmark();
        marked = t[0];
        marked.classList.add(t[1]);
      }
    });
    zone.addEventListener("dragleave", function (event) {
      if (!zone.contains(event.relatedTarget)) {
        unmark();
      }
    });
    zone.addEventListener("drop", function (event) {
      if (!dragged) {
        return;
      }
      event.preventDefault();
      var t = target(zone, event);
      var section = zone.getAttribute("data-drop-section");
      var sameSection = dragged.getAttribute("data-section") === section;
      unmark();
      if (sameSection && String(t[2]) === dragged.getAttribute("data-position")) {
        return; // dropped where it was
      }
      form.elements.ref.value = dragged.getAttribute("data-pick");
      form.elements.section.value = section;
      form.elements.position.value = String(t[2]);
      dragged.classList.add("moving");
      form.submit();
    });
  });

  var hint = document.getElementById("reorder-hint");
  if (hint) {
    hint.hidden = false;
  }
})();
