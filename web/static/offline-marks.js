// Rounds: marks (Arrived, Done, Skipped, Undo) made on the day page without signal, kept on the phone
// and sent in the order they were made when the connection returns. No page here: offline.js
// shows the marks and queues them; the service worker (sw.js) loads this file too, to send
// them on a Background Sync.
//
// Kept in IndexedDB (not localStorage, which a service worker cannot read). A mark holds what
// the server needs to judge it when it arrives (web/pages/day.py stop_state): the stop, the
// state asked for, the state the page showed (seen_state), when it was made, the form's
// address and CSRF token, and who was signed in (sent as "by": a mark is only ever saved
// under the sign-in that made it). Its age is sent, not the phone's clock reading: the server
// places it on its own clock. A mark the server refuses (the day changed meanwhile) is kept,
// with the server's words, until the therapist dismisses it: never dropped silently. A mark
// the server took stays a moment as "sent" (settle): the page may still show the day before it.
"use strict";

var RoundsMarks = (function () {
  var DB_NAME = "rounds-offline";
  var STORE = "marks";
  var LOCK = "rounds-marks-sending";

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        // Keys count up: reading them in key order is reading the marks in the order made.
        request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  // One transaction on the store; resolves with the result of the request ``work`` makes.
  // The database is closed after each, so that deleting it (logout) is never blocked.
  function withStore(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var request = work(transaction.objectStore(STORE));
        transaction.oncomplete = function () { db.close(); resolve(request && request.result); };
        transaction.onerror = transaction.onabort = function () {
          db.close();
          reject(transaction.error);
        };
      });
    });
  }

  // Every mark kept (of ``user`` only, when given), oldest first.
  function list(user) {
    return withStore("readonly", function (store) { return store.getAll(); })
      .then(function (marks) {
        return (marks || []).filter(function (mark) { return !user || mark.user === user; });
      });
  }

  function add(mark) {
    mark.status = "waiting";
    return withStore("readwrite", function (store) { return store.add(mark); });
  }

  function put(mark) {
    return withStore("readwrite", function (store) { return store.put(mark); });
  }

  function remove(id) {
    return withStore("readwrite", function (store) { return store.delete(id); });
  }

  // Delete every mark kept (logout). Resolves when the database is gone.
  function forget() {
    return new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = function () { resolve(); };
    });
  }

  // Send the waiting marks (of ``user``, or all), oldest first and one at a time, so each is
  // judged on the day as the one before it left it. ``token``: a CSRF token of the session
  // now (a page fresh from the server has one); else each mark's own. Resolves with
  // {sent, refused, stopped}: stopped is null when none is left waiting, "offline" (no
  // connection), "later" (the server could not answer now), "sign-in" (the sign-in ended or
  // is someone else's: the marks wait for their own) or "busy" (another page or the worker
  // is sending them now).
  function send(user, token) {
    var run = function () { return sendAll(user, token); };
    var locks = self.navigator && self.navigator.locks;
    if (!locks) { return run(); }
    return locks.request(LOCK, { ifAvailable: true }, function (lock) {
      return lock ? run() : { sent: 0, refused: 0, stopped: "busy" };
    });
  }

  function sendAll(user, token) {
    var outcome = { sent: 0, refused: 0, stopped: null };
    return list(user).then(function (marks) {
      var waiting = marks.filter(function (mark) { return mark.status === "waiting"; });
      var next = function (index) {
        if (index >= waiting.length) { return outcome; }
        return sendOne(waiting[index], token).then(function (answer) {
          if (answer === "sent" || answer === "refused") {
            outcome[answer] += 1;
            return next(index + 1);
          }
          outcome.stopped = answer;
          return outcome;
        });
      };
      return next(0);
    });
  }

  function sendOne(mark, token) {
    var body = new URLSearchParams();
    body.set("csrf_token", token || mark.token);
    body.set("state", mark.state);
    body.set("seen_state", mark.seenState);
    body.set("made_ago", String(Math.max(0, Math.round((Date.now() - mark.madeAt) / 1000))));
    body.set("confirmed", "1");  // done before its planned start: asked when it was pressed
    body.set("by", mark.user);
    return fetch(mark.url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        // Not an answer to the mark: the sign-in page (the session ended), or a page an
        // admin must see first; a server error page.
        return response.status >= 500 ? "later" : "sign-in";
      }
      return response.json().then(function (answer) {
        if (response.ok && answer.saved) {
          // Kept a little longer as "sent", with when: see settle().
          mark.status = "sent";
          mark.answeredAt = Date.now();
          return put(mark).then(function () { return "sent"; });
        }
        if (answer.sign_in || answer.error === "csrf") { return "sign-in"; }
        if (response.status >= 500 || response.status === 429) { return "later"; }
        mark.status = "refused";
        mark.reason = response.status === 404 ? "the visit is no longer in your day"
          : (answer.reason || answer.message || "the server did not take it");
        return put(mark).then(function () { return "refused"; });
      });
    }, function () { return "offline"; });
  }

  // Whether a page whose request left at ``since`` (ms, the phone's clock) may show the day
  // from before a mark of ``user`` reached the server: a page fetched while the worker was
  // sending, whose "marks-changed" message came before the page could hear it. Marks sent
  // before ``since`` are forgotten: that page shows them. Resolves true when the page should
  // load again (its next load starts after the answers, so this never loops).
  function settle(user, since) {
    return list(user).then(function (marks) {
      var sent = marks.filter(function (mark) { return mark.status === "sent"; });
      if (sent.some(function (mark) { return mark.answeredAt >= since; })) { return true; }
      return Promise.all(sent.map(function (mark) { return remove(mark.id); }))
        .then(function () { return false; });
    });
  }

  // Resolves when no page and no worker is sending marks.
  function idle() {
    var locks = self.navigator && self.navigator.locks;
    return locks ? locks.request(LOCK, function () {}) : Promise.resolve();
  }

  return { add: add, list: list, put: put, remove: remove, forget: forget, send: send,
           settle: settle, idle: idle, SYNC_TAG: "rounds-marks" };
}());
