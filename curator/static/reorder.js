// Drag and drop reordering of the picks on an issue's page in the editor area.
//
// An enhancement only: each pick's "Move up" / "Move down" buttons and the
// section menu among its other actions do the same without JavaScript, from
// the keyboard. A pick is dragged by its handle (the rest of it stays
// selectable text). A drop fills the page's reorder form (the same POST, CSRF
// token and order of the sections as the buttons) and submits it, so the
// server refuses a move made on a stale order exactly as it does for the
// buttons; a change to the édito, the title or a note never makes it stale.
(function () {
  "use strict";

  var form = document.getElementById("reorder-form");
  if (!form || !("draggable" in document.createElement("span"))) {
    return;
  }
  var dragged = null;
  var marked = null;

  function position(li) {
    return parseInt(li.getAttribute("data-position"), 10);
  }

  function unmark() {
    if (marked) {
      marked.classList.remove("drop-before", "drop-after", "drop-end");
      marked = null;
    }
  }

  // Where a drop at the pointer would put the dragged pick:
  // [element to mark, class, position to send ("" = last of the section)].
  // Positions are the stored ones: the section may hold picks this page does
  // not show, and the server counts them.
  function target(zone, event) {
    var same = dragged.getAttribute("data-section") === zone.getAttribute("data-drop-section");
    var from = position(dragged);
    var picks = Array.prototype.filter.call(zone.querySelectorAll("[data-pick]"), function (li) {
      return li !== dragged;
    });
    for (var i = 0; i < picks.length; i += 1) {
      var box = picks[i].getBoundingClientRect();
      if (event.clientY < box.top + box.height / 2) {
        var before = position(picks[i]);
        return [picks[i], "drop-before", same && from < before ? before - 1 : before];
      }
    }
    if (picks.length) {
      var last = picks[picks.length - 1];
      var after = position(last) + 1;
      return [last, "drop-after", same && from < after ? after - 1 : after];
    }
    return [zone, "drop-end", same ? from : ""];
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-pick]"), function (li) {
    var handle = li.querySelector(".drag-handle");
    if (!handle) {
      return;
    }
    handle.hidden = false;
    handle.setAttribute("draggable", "true");
    handle.addEventListener("dragstart", function (event) {
      dragged = li;
      li.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", li.getAttribute("data-pick"));
      event.dataTransfer.setDragImage(li, 0, 0);
    });
    handle.addEventListener("dragend", function () {
      li.classList.remove("dragging");
      unmark();
      dragged = null;
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("[data-drop-section]"), function (zone) {
    zone.addEventListener("dragover", function (event) {
      if (!dragged) {
        return; // a file, some text, another page: not ours
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
      unmark();
      if (dragged.getAttribute("data-section") === section && t[2] === position(dragged)) {
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
