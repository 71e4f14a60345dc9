// Intake suggestions ("智能识别"): after the HTMX fragment arrives, fill the type, category,
// urgency, district and street fields the agent has not set yet; "Apply suggestions" fills
// them all. The street options load after the district changes, so the street is set then.
(function () {
  "use strict";
  var pendingStreet = null;

  function field(name) { return document.getElementById("id_" + name); }

  function set(name, value, overwrite) {
    var el = field(name);
    if (!el || value === null || value === undefined || value === "") { return; }
    if (el.type === "checkbox") {
      if (overwrite || !el.dataset.assistTouched) { el.checked = !!value; el.dispatchEvent(new Event("change", { bubbles: true })); }
      return;
    }
    if (!overwrite && el.value && !el.dataset.assistFilled) { return; }
    if (String(el.value) === String(value)) { return; }
    var exists = Array.prototype.some.call(el.options || [], function (o) { return o.value === String(value); });
    if (!exists) { return; }
    el.value = String(value);
    el.dataset.assistFilled = "1";
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function apply(overwrite) {
    var data = document.getElementById("assist-data");
    if (!data) { return; }
    var fill = JSON.parse(data.textContent);
    set("type", fill.type, overwrite);
    set("category_id", fill.category_id, overwrite);
    set("urgent", fill.urgent, overwrite);
    var district = field("district");
    var before = district ? district.value : "";
    set("district", fill.district, overwrite);
    if (district && district.value !== before) {
      pendingStreet = { value: fill.street, overwrite: true };  // set once the options load
    } else {
      set("street", fill.street, overwrite);
    }
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.id && event.isTrusted) { el.dataset.assistTouched = "1"; delete el.dataset.assistFilled; }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) { return; }
    if (target.id === "assist-suggestions") { apply(false); }
    if (target.id === "id_street" && pendingStreet) {
      set("street", pendingStreet.value, pendingStreet.overwrite);
      pendingStreet = null;
    }
  });
  document.addEventListener("click", function (event) {
    if (event.target && event.target.matches && event.target.matches("[data-assist-apply]")) { apply(true); }
  });
})();
