/* Minyi: small enhancements. Every page works without this script. */
(function () {
  "use strict";

  // After a refused form, bring the first field in error (or the alert) into view.
  function showProblem() {
    var field = document.querySelector(
      ".has-error input:not([type=hidden]), .has-error select, .has-error textarea"
    );
    if (field) {
      field.scrollIntoView({ block: "center" });
      field.focus({ preventScroll: true });
      return;
    }
    var alert = document.querySelector(".panel .alert-error");
    if (alert) {
      alert.scrollIntoView({ block: "center" });
    }
  }

  document.addEventListener("DOMContentLoaded", showProblem);
  document.addEventListener("htmx:afterSettle", showProblem);

  // A staged-closure plan's milestone rows: the page has a few blank rows; this adds more,
  // up to the plan's limit. Blank rows are ignored by the server.
  document.documentElement.classList.add("js");
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".add-milestone");
    if (!button) {
      return;
    }
    var box = button.closest(".milestone-rows");
    var list = box.querySelector(".milestone-list");
    var rows = list.querySelectorAll(".milestone-row");
    var max = parseInt(box.getAttribute("data-max"), 10) || 12;
    if (!rows.length || rows.length >= max) {
      return;
    }
    var row = rows[rows.length - 1].cloneNode(true);
    row.querySelectorAll("input").forEach(function (input) {
      input.value = "";
      input.removeAttribute("id");
    });
    list.appendChild(row);
    row.querySelector("input").focus();
    button.disabled = rows.length + 1 >= max;
  });
})();
