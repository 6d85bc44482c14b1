// Keyboard for the desk (served from the package; no inline script, no other origin).
// Queue: J/N next row, K previous, Enter open. Pair: R reason, S same, D not the same,
// K skip, N next, Q back to the queue. Keys do nothing while typing in a field.
(function () {
  "use strict";
  function typing(event) {
    var t = event.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT");
  }
  function click(id) {
    var el = document.getElementById(id);
    if (el) { el.click(); return true; }
    return false;
  }
  function decide(id) {
    var reason = document.getElementById("reason");
    if (reason && !reason.value.trim()) { reason.focus(); reason.reportValidity(); return; }
    click(id);
  }
  var rows = [];
  var at = -1;
  function select(i) {
    if (!rows.length) { return; }
    if (at >= 0) { rows[at].classList.remove("selected"); }
    at = Math.max(0, Math.min(rows.length - 1, i));
    rows[at].classList.add("selected");
    rows[at].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("DOMContentLoaded", function () {
    rows = Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr"))
      .filter(function (r) { return r.querySelector("a.open-item"); });
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event)) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    var key = event.key.toLowerCase();
    if (document.getElementById("decide") || document.getElementById("skip")) {
      if (key === "r") { var r = document.getElementById("reason"); if (r) { event.preventDefault(); r.focus(); } }
      else if (key === "s") { decide("same"); }
      else if (key === "d") { decide("distinct"); }
      else if (key === "k" || key === "n") { click("skip"); }
      else if (key === "q") { click("back-to-queue"); }
      return;
    }
    if (rows.length) {
      if (key === "j" || key === "n") { select(at + 1); }
      else if (key === "k") { select(at - 1); }
      else if (key === "enter" && at >= 0) { rows[at].querySelector("a.open-item").click(); }
    }
  });
}());
