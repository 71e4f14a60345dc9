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
})();
