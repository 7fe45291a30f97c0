// Rounds: the day without signal, on the page. Loaded by every page (base.html), after
// offline-marks.js. Without a service worker or IndexedDB it does nothing and the pages work
// as before.
//
// Signed in (the rounds-user meta tag names who): registers the service worker (sw.js, see
// web/offline.py) and has it keep today's and tomorrow's day page; shows what the phone holds,
// at the top of the page:
//   - "Offline — showing the copy saved at 10:42" on a copy the worker served;
//   - "Offline — 2 changes waiting" while marks wait, each of those stops showing its mark;
//   - a mark the server refused, in its words, until the therapist dismisses it.
// Arrived, Done, Skipped and Undo pressed without signal (or while earlier marks still wait, so they
// keep their order) are kept on the phone (offline-marks.js) and sent when the connection
// returns: on the "online" event, on the next page load, and by the worker's Background Sync
// where the browser has one. Logging out first warns about marks not sent, then clears the
// phone's copies and marks (the server's Clear-Site-Data header does too, where supported).
// Signed out (the sign-in page): the copies of day pages go, since the sign-in they belonged
// to is over; marks wait for their own sign-in.
"use strict";

(function () {
  var STATE_FORM = /^\/stops\/(\d+)\/state$/;
  var LABELS = { arrived: "Arrived", done: "Done", skipped: "Skipped", planned: "Undo" };
  var RETRY_MS = 30000;  // with signal but no answer (a flaky connection): try again
  var meta = document.querySelector("meta[name=rounds-user]");
  var user = meta ? meta.getAttribute("content") : "";
  var copySavedAt = document.documentElement.getAttribute("data-offline-copy");
  var isCopy = copySavedAt !== null;  // served by the worker from the phone, not the server
  var day = null;  // the day page's data (#offline-day), null on other pages
  var waitingCount = 0;  // as last rendered: a submit must decide at once whether to queue
  var signInNeeded = false;
  var retry = null;

  var supported = window.isSecureContext && "serviceWorker" in navigator &&
    "indexedDB" in window && "caches" in window && typeof RoundsMarks !== "undefined";
  if (!supported) { return; }
  document.addEventListener("DOMContentLoaded", start);

  function start() {
    if (!user) { forgetPages(); return; }
    var data = document.getElementById("offline-day");
    day = data ? JSON.parse(data.textContent) : null;
    register();
    document.addEventListener("submit", onSubmit, true);  // capture: before anything else
    document.addEventListener("click", onClick);
    window.addEventListener("online", function () {
      flush().then(function (reloading) {
        if (!reloading && isCopy) { location.reload(); }  // the day as the server has it
      });
    });
    window.addEventListener("offline", render);
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "marks-changed") { afterSending(1); }
    });
    catchUp().then(function (reloading) { return reloading || render().then(flush); });
  }

  // This page's request may have left before marks it does not show reached the server (the
  // worker was sending them as it loaded): then load it again.
  function catchUp() {
    return RoundsMarks.settle(user, performance.timeOrigin).then(function (stale) {
      if (stale && day) {
        location.reload();
        return true;
      }
      return false;
    }).catch(function () { return false; });
  }

  // The worker, registered for the whole site; and today's or tomorrow's page kept at once
  // (the first visit is not fetched through the worker, which then starts to control it).
  function register() {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      if (!day || isCopy || location.search || !registration.active ||
          (day.day !== day.today && day.day !== day.tomorrow)) {
        return null;
      }
      return ask(registration.active, { type: "keep", path: location.pathname }, 120);
    }).then(function (answer) {
      if (answer && answer.kept) {  // (tests wait for this)
        document.documentElement.setAttribute("data-offline-saved", String(Date.now()));
      }
    }).catch(function () { /* no worker: the page works as before, without a copy */ });
  }

  // A message to a worker, answered on a channel; null when it does not answer within
  // ``seconds`` (logging out must not wait for ever; keeping a page may take its time).
  function ask(worker, message, seconds) {
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      var timer = setTimeout(function () { resolve(null); }, (seconds || 5) * 1000);
      channel.port1.onmessage = function (event) { clearTimeout(timer); resolve(event.data); };
      worker.postMessage(message, [channel.port2]);
    });
  }

  function tellWorker(message) {
    var worker = navigator.serviceWorker.controller;
    return worker ? ask(worker, message) : Promise.resolve(null);
  }

  // --- What the phone holds, shown at the top of the page ---------------------------------

  function render() {
    return RoundsMarks.list().then(function (marks) {
      var mine = marks.filter(function (mark) { return mark.user === user; });
      var waiting = mine.filter(function (mark) { return mark.status === "waiting"; });
      var refused = mine.filter(function (mark) { return mark.status === "refused"; });
      var others = marks.filter(function (mark) {
        return mark.user !== user && mark.status === "waiting";
      });
      waitingCount = waiting.length;
      var box = notices();
      if (isCopy && copySavedAt) {
        box.appendChild(note("offline-copy", "flash warn", "status",
          "Offline — showing the copy saved at " + hm(Number(copySavedAt))));
      }
      if (waiting.length) { box.appendChild(waitingNote(waiting.length)); }
      refused.forEach(function (mark) { box.appendChild(refusedNote(mark)); });
      if (others.length) {
        var other = note("offline-others", "flash warn", "status", changes(others.length) +
          " made under another sign-in " + (others.length === 1 ? "is" : "are") +
          " waiting on this phone, to be sent when that person signs in. ");
        other.appendChild(button("Discard them", "data-discard-others", "1"));
        box.appendChild(other);
      }
      showPending(waiting);
      // Shown: what the phone holds is on the page (the browser tests wait for this).
      document.documentElement.setAttribute("data-marks-shown", "");
    }).catch(function () { /* storage unavailable (private mode): nothing to show */ });
  }

  function notices() {
    var box = document.getElementById("offline-notices");
    if (!box) {
      box = document.createElement("div");
      box.id = "offline-notices";
      var main = document.getElementById("content") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = "";
    return box;
  }

  function note(id, className, role, text) {
    var element = document.createElement("p");
    if (id) { element.id = id; }
    element.className = className;
    element.setAttribute("role", role);
    element.textContent = text;
    return element;
  }

  function button(text, attribute, value) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "link";
    element.textContent = text;
    element.setAttribute(attribute, value);
    return element;
  }

  function changes(count) { return count === 1 ? "1 change" : count + " changes"; }

  function waitingNote(count) {
    if (!navigator.onLine) {
      return note("offline-waiting", "flash warn", "status",
                  "Offline — " + changes(count) + " waiting");
    }
    if (signInNeeded) {
      var element = note("offline-waiting", "flash warn", "status", changes(count) +
        " waiting: sign in again to send " + (count === 1 ? "it" : "them") + ". ");
      var link = document.createElement("a");
      link.href = "/login";
      link.textContent = "Sign in";
      element.appendChild(link);
      return element;
    }
    return note("offline-waiting", "flash warn", "status",
                changes(count) + " waiting to be sent");
  }

  // "Done at 10:42 for stop 3 was not saved: <the server's words>." with the day when it is
  // not this page's, and a button to dismiss it.
  function refusedNote(mark) {
    var on = day && day.day === mark.day ? "" : " (" + dayWords(mark.day) + ")";
    var element = note(null, "flash error mark-refused", "alert",
      LABELS[mark.state] + " at " + mark.madeText + " for stop " + mark.number + on +
      " was not saved: " + mark.reason + ". ");
    element.appendChild(button("Dismiss", "data-dismiss-mark", String(mark.id)));
    return element;
  }

  function dayWords(iso) {
    return new Intl.DateTimeFormat("en-GB", { weekday: "long", day: "numeric",
      month: "long", timeZone: "UTC" }).format(new Date(iso + "T12:00:00Z"));
  }

  // HH:MM in the practice's zone (the day page's), as every time on the pages.
  function hm(milliseconds) {
    var options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (day && day.zone) { options.timeZone = day.zone; }
    return new Intl.DateTimeFormat("en-GB", options).format(new Date(milliseconds));
  }

  // Each stop of this page with a mark waiting says so, in its row and on the next stop's
  // card: "Done — waiting to be sent".
  function showPending(waiting) {
    document.querySelectorAll(".pending-mark").forEach(function (old) { old.remove(); });
    if (!day) { return; }
    var latest = {};
    waiting.forEach(function (mark) { if (mark.day === day.day) { latest[mark.stopId] = mark; } });
    Object.keys(latest).forEach(function (stopId) {
      var mark = latest[stopId];
      var words = LABELS[mark.state] + " — waiting to be sent";
      var row = document.getElementById("stop-" + stopId);
      var card = document.querySelector("#next-stop[data-stop-number='" + mark.number + "']");
      [row && (row.querySelector(".stop-card") || row), card].forEach(function (place) {
        if (!place) { return; }
        var pending = note(null, "pending-mark", "status", words);
        var heading = place.querySelector("h2");
        place.insertBefore(pending, heading && heading.parentNode === place
          ? heading.nextSibling : place.firstChild);
      });
    });
  }

  // --- Marks: queued without signal, sent when it returns ----------------------------------

  function onSubmit(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") { return; }
    var path = new URL(form.action, location.href).pathname;
    if (path === "/logout") {
      event.preventDefault();
      logout(form);
      return;
    }
    var match = STATE_FORM.exec(path);
    var stop = match && day && day.stops[match[1]];
    if (stop && (!navigator.onLine || waitingCount > 0)) {
      event.preventDefault();
      event.stopPropagation();
      queue(form, match[1], stop);
    } else if (!navigator.onLine) {
      // Nothing else can wait for signal: say so rather than send the form into the void.
      event.preventDefault();
      event.stopPropagation();
      render().then(function () {
        document.getElementById("offline-notices").appendChild(note("offline-needs-signal",
          "flash error", "alert", "Offline — this needs signal. Only Arrived, Done, " +
          "Skipped and Undo are kept on the phone to be sent later."));
      });
    }
  }

  function queue(form, stopId, stop) {
    var state = form.elements.namedItem("state").value;
    var now = Date.now();
    var start = Date.parse(stop.start);
    // The server asks this on its own page (not after Arrived: the therapist is there);
    // without signal the phone asks it now.
    if (state === "done" && stop.state !== "arrived" && start > now && !window.confirm("Mark this visit done? It was " +
        "planned to start at " + hm(start) + ", which is later than now.")) {
      return;
    }
    RoundsMarks.list(user).then(function (marks) {
      var seen = stop.state;  // as the page shows it, or as the last mark waiting left it
      marks.forEach(function (mark) {
        if (mark.status === "waiting" && mark.stopId === stopId) { seen = mark.state; }
      });
      return RoundsMarks.add({
        user: user, stopId: stopId, state: state, seenState: seen, madeAt: now,
        madeText: hm(now), day: day.day, number: stop.number, url: form.action,
        token: form.elements.namedItem("csrf_token").value
      });
    }).then(function () {
      navigator.serviceWorker.ready.then(function (registration) {
        return registration.sync && registration.sync.register(RoundsMarks.SYNC_TAG);
      }).catch(function () { /* no Background Sync: the pages send them */ });
      return render();
    }).then(flush);
  }

  // Send this user's waiting marks when there is signal; resolves true when the page reloads
  // to show the day as the server now has it.
  function flush() {
    clearTimeout(retry);
    if (!navigator.onLine) { return render().then(function () { return false; }); }
    return RoundsMarks.send(user, isCopy ? null : pageToken()).then(function (outcome) {
      signInNeeded = outcome.stopped === "sign-in";
      if (outcome.stopped === "offline" || outcome.stopped === "later") {
        retry = setTimeout(flush, RETRY_MS);
      }
      if (outcome.stopped === "busy") {  // the worker is sending: show what it sent, after
        return RoundsMarks.idle().then(catchUp);
      }
      return afterSending(outcome.sent + outcome.refused);
    }).catch(function () { return false; });
  }

  function afterSending(answered) {
    if (answered && day) {
      location.reload();
      return true;
    }
    return render().then(function () { return false; });
  }

  // A page fresh from the server carries a CSRF token of the session as it is now.
  function pageToken() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : null;
  }

  function onClick(event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var dismiss = target.closest("[data-dismiss-mark]");
    if (dismiss) {
      RoundsMarks.remove(Number(dismiss.getAttribute("data-dismiss-mark"))).then(render);
      return;
    }
    if (target.closest("[data-discard-others]") &&
        window.confirm("Discard the changes made under another sign-in? They are lost.")) {
      RoundsMarks.list().then(function (marks) {
        return Promise.all(marks.filter(function (mark) { return mark.user !== user; })
          .map(function (mark) { return RoundsMarks.remove(mark.id); }));
      }).then(render);
    }
  }

  // --- Logging out: nothing of the day stays on the phone ----------------------------------

  function logout(form) {
    var sending = navigator.onLine
      ? RoundsMarks.send(user, pageToken()).catch(function () { return null; })
      : Promise.resolve(null);
    sending.then(function () { return RoundsMarks.list(user); }).then(function (marks) {
      var waiting = marks.filter(function (mark) { return mark.status === "waiting"; }).length;
      if (waiting && !window.confirm(changes(waiting) + " not sent yet. Log out anyway? " +
          (waiting === 1 ? "It is" : "They are") + " lost if you do.")) {
        return;
      }
      forgetAll().then(function () {
        if (navigator.onLine) {
          form.submit();
        } else {
          render().then(function () {
            notices().appendChild(note("offline-logout", "flash warn", "status",
              "The day is cleared from this phone. Log out again when there is signal, " +
              "to end the sign-in."));
          });
        }
      });
    }, function () { form.submit(); });
  }

  function forgetAll() {
    var done = function () { return null; };
    return Promise.all([
      tellWorker({ type: "forget" }),
      caches.keys().then(function (names) {  // every cache of this site is the worker's
        return Promise.all(names.map(function (name) { return caches.delete(name); }));
      }),
      RoundsMarks.forget()
    ]).then(done, done);
  }

  function forgetPages() {
    tellWorker({ type: "forget-pages" });
    caches.delete("rounds-pages").catch(function () { return null; });
  }
}());
