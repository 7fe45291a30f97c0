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

  // The day on a phone: the timeline's rows start closed (the next stop's card above says
  // what matters now) and open on a tap; the row a link or a map marker points at opens.
  // Without this script, or on a wider screen, every row stays open as sent.
  var rows = document.querySelectorAll("details.stop-row");
  if (rows.length && window.matchMedia("(max-width: 699px)").matches) {
    rows.forEach(function (row) {
      var item = row.closest("li.stop");
      row.open = !!item && location.hash === "#" + item.id;
    });
  }
  document.addEventListener("click", function (event) {
    var part = event.target.closest && event.target.closest(".stop-marker");
    if (!part) { return; }
    var first = part.querySelector("[data-stop-id]");
    var item = first && document.getElementById("stop-" + first.dataset.stopId);
    var row = item && item.querySelector("details.stop-row");
    if (row) { row.open = true; }
  }, true);

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

  // The site menu on a phone: one "Menu" button (the menu is open as sent, for wide screens
  // and for pages without this script). Escape, Tab out of it or a tap elsewhere closes it.
  var menu = document.querySelector("header.site details.menu");
  if (menu) {
    var narrow = window.matchMedia("(max-width: 699px)");
    var fit = function () { menu.open = !narrow.matches; };
    fit();
    narrow.addEventListener("change", fit);
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && narrow.matches && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
    var fold = function (outside) {
      if (narrow.matches && menu.open && outside && !menu.contains(outside)) { menu.open = false; }
    };
    menu.addEventListener("focusout", function (event) { fold(event.relatedTarget); });
    document.addEventListener("click", function (event) { fold(event.target); });
  }
});
