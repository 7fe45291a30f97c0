// Rounds: small enhancements for every page. Everything works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // Forms that destroy or cancel something ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  // The print view's button.
  document.querySelectorAll("[data-action='print']").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // Secret addresses and tokens: select all on focus, for copying.
  document.querySelectorAll("input.copy").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // A rejected form: move focus to the summary of what to correct.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }

  // "Running late": send where the therapist is, if the browser may tell (never required).
  // (The day page has two such forms: in the next stop's card and in the day's actions.)
  document.querySelectorAll("form.late-form").forEach(function (late) {
    if (!navigator.geolocation) { return; }
    late.addEventListener("submit", function (event) {
      if (late.dataset.located) { return; }
      event.preventDefault();
      var send = function () { late.dataset.located = "1"; late.submit(); };
      navigator.geolocation.getCurrentPosition(function (where) {
        late.querySelector("input[name=lat]").value = where.coords.latitude.toFixed(6);
        late.querySelector("input[name=lon]").value = where.coords.longitude.toFixed(6);
        send();
      }, send, { timeout: 5000, maximumAge: 60000 });
    });
  });

  // The recurrence editor shows the inputs of the chosen mode.
  document.querySelectorAll(".rule-editor").forEach(function (editor) {
    var update = function () {
      var chosen = editor.querySelector("input[name=rule_mode]:checked");
      var mode = chosen ? chosen.value : "weekly";
      editor.querySelector(".rule-weekly").hidden = mode !== "weekly";
      editor.querySelector(".rule-custom").hidden = mode !== "custom";
    };
    editor.querySelectorAll("input[name=rule_mode]").forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    update();
  });
});
