// Rounds' service worker: today's and tomorrow's day pages readable without signal.
//
// Served at /sw.js by web/offline.py, which writes in ASSETS and VERSION below. What it does:
// - Day pages ("/" and /day/YYYY-MM-DD, never with a query): network first. A page the server
//   marks as one to keep (headers Rounds-Offline-*: one's own today or tomorrow) is stored,
//   with when it was saved and when the sign-in ends; without a connection the stored copy
//   is served, marked (data-offline-copy on <html>) so that offline.js shows "Offline —
//   showing the copy saved at HH:MM". A copy past the end of its sign-in is deleted, never
//   served. Today's page, fetched online, fetches tomorrow's too.
// - The files those pages need (ASSETS: css, js, the map library, the manifest): fetched on
//   install, then network first, so an update is seen at once when there is signal.
// - Nothing else is touched: other pages (which carry patient data too), form posts and the
//   API go to the network as if there were no worker, and are never stored.
// - Marks made offline wait in IndexedDB (offline-marks.js); where the browser has Background
//   Sync, the worker sends them when the connection returns, else the pages do.
// - "forget" (logout): every cache is deleted; "forget-pages" (the sign-in page): the day
//   pages only.
"use strict";

var VERSION = /*ROUNDS:VERSION*/"";
var ASSETS = /*ROUNDS:ASSETS*/[];
var PAGES = "rounds-pages";  // day pages: patient data, bounded by the sign-in
var FILES = "rounds-files-" + VERSION;  // no patient data
var FETCH_AHEAD_EVERY = 5 * 60 * 1000;  // tomorrow's page at most every 5 minutes
var DAY_PAGE = /^\/(day\/\d{4}-\d{2}-\d{2})?$/;

importScripts(ASSETS.filter(function (url) { return /offline-marks\.js$/.test(url); })[0]);

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(FILES).then(function (cache) { return cache.addAll(ASSETS); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  // Drop the files of earlier versions; control the open pages at once, so that the page
  // that installed the worker is kept without a reload.
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("rounds-files-") === 0 && name !== FILES;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && !url.search && DAY_PAGE.test(url.pathname)) {
    event.respondWith(dayPage(event, url.pathname));
  } else if (ASSETS.indexOf(url.pathname) !== -1 && !url.search) {
    event.respondWith(file(request));
  }
});

function dayPage(event, path) {
  return fetch(event.request).then(function (response) {
    event.waitUntil(keep(path, response.clone()));
    return response;
  }, function () {
    return savedCopy(path);
  });
}

function file(request) {
  return fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(FILES).then(function (cache) { return cache.put(request, copy); });
    }
    return response;
  }, function () {
    return caches.open(FILES).then(function (cache) { return cache.match(request); })
      .then(function (found) { return found || Response.error(); });
  });
}

// Store a day page the server allows to keep; drop copies of days no longer kept and copies
// past their sign-in; on today's page, fetch tomorrow's (at most every few minutes).
function keep(path, response) {
  var day = response.headers.get("Rounds-Offline-Day");
  var ends = Number(response.headers.get("Rounds-Session-Ends")) * 1000;
  if (response.type === "opaqueredirect" || response.status !== 200) {
    return Promise.resolve(false);  // a redirect (to the sign-in page, or to another day)
  }
  if (!day || !ends) {  // not to be kept (any more): a copy under this address goes
    return caches.open(PAGES).then(function (cache) { return cache.delete(path); })
      .then(function () { return false; });
  }
  var kept = (response.headers.get("Rounds-Offline-Keep") || "").split(" ");
  var next = response.headers.get("Rounds-Offline-Next");
  return response.blob().then(function (body) {
    var headers = new Headers(response.headers);
    headers.set("Rounds-Saved-At", String(Date.now()));
    // The body is stored decoded, and the copy served is longer (marked as a copy).
    headers.delete("Content-Length");
    headers.delete("Content-Encoding");
    var stored = function () { return new Response(body, { status: 200, headers: headers }); };
    return caches.open(PAGES).then(function (cache) {
      // "/" is today's page: each is kept under both addresses.
      var also = path === "/" ? "/day/" + day : (day === kept[0] ? "/" : null);
      return Promise.all([cache.put(path, stored()), also && cache.put(also, stored())])
        .then(function () { return prune(cache, kept); });
    });
  }).then(function () {
    return next ? fetchAhead(next) : null;
  }).then(function () { return true; });
}

function prune(cache, kept) {
  return cache.keys().then(function (requests) {
    return Promise.all(requests.map(function (request) {
      return cache.match(request).then(function (copy) {
        if (!copy || kept.indexOf(copy.headers.get("Rounds-Offline-Day")) === -1 ||
            expired(copy)) {
          return cache.delete(request);
        }
        return null;
      });
    }));
  });
}

function fetchAhead(path) {
  return caches.open(PAGES).then(function (cache) { return cache.match(path); })
    .then(function (copy) {
      var saved = copy ? Number(copy.headers.get("Rounds-Saved-At")) : 0;
      if (Date.now() - saved < FETCH_AHEAD_EVERY) { return null; }
      return fetch(path, { credentials: "same-origin", redirect: "manual" })
        .then(function (response) { return keep(path, response); }, function () { return null; });
    });
}

function expired(copy) {
  var ends = Number(copy.headers.get("Rounds-Session-Ends")) * 1000;
  return !ends || Date.now() >= ends;
}

// The copy of a day page, marked as a copy with when it was saved; or a page saying there is
// none (never saved, or past the end of its sign-in: then it is deleted here).
function savedCopy(path) {
  return caches.open(PAGES).then(function (cache) {
    return cache.match(path).then(function (copy) {
      if (!copy) { return notSaved(); }
      if (expired(copy)) {
        return cache.delete(path).then(notSaved);
      }
      var saved = copy.headers.get("Rounds-Saved-At");
      return copy.text().then(function (html) {
        var marked = html.replace(/<html\b/, "<html data-offline-copy=\"" + saved + "\"");
        return new Response(marked, { status: 200, headers: copy.headers });
      });
    });
  });
}

function notSaved() {
  var html = "<!doctype html><html lang=\"en\" data-offline-copy=\"\"><head>" +
    "<meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, " +
    "initial-scale=1\"><title>Offline · Rounds</title>" +
    "<link rel=\"stylesheet\" href=\"/static/app.css\"></head><body>" +
    "<main id=\"content\"><h1>Offline</h1><p class=\"flash warn\" id=\"not-saved\">" +
    "Offline — this day is not saved on this phone. Today's and tomorrow's days are saved " +
    "each time you open today's day with signal, until your sign-in ends.</p>" +
    "<p><a href=\"/\">Try today's day</a></p></main></body></html>";
  return new Response(html, { status: 503, headers: {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; " +
      "base-uri 'none'; frame-ancestors 'none'"
  } });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var reply = function (answer) {
    if (event.ports && event.ports[0]) { event.ports[0].postMessage(answer); }
  };
  if (data.type === "forget") {
    event.waitUntil(caches.keys().then(function (names) {
      return Promise.all(names.map(function (name) { return caches.delete(name); }));
    }).then(function () { reply({ forgotten: true }); }));
  } else if (data.type === "forget-pages") {
    event.waitUntil(caches.delete(PAGES).then(function () { reply({ forgotten: true }); }));
  } else if (data.type === "keep" && DAY_PAGE.test(data.path || "")) {
    // The page that installed the worker was not fetched through it: keep it now, unless
    // its navigation was just kept.
    event.waitUntil(caches.open(PAGES).then(function (cache) { return cache.match(data.path); })
      .then(function (copy) {
        var saved = copy ? Number(copy.headers.get("Rounds-Saved-At")) : 0;
        if (copy && Date.now() - saved < 60 * 1000) { return true; }
        return fetch(data.path, { credentials: "same-origin", redirect: "manual" })
          .then(function (response) { return keep(data.path, response); },
                function () { return false; });
      }).then(function (kept) { reply({ kept: kept }); }));
  }
});

// Background Sync, where the browser has it: send the marks waiting, then tell the pages.
// Failing when the connection or the server did not answer has the browser try again later.
self.addEventListener("sync", function (event) {
  if (event.tag !== RoundsMarks.SYNC_TAG) { return; }
  event.waitUntil(RoundsMarks.send(null, null).then(function (outcome) {
    return self.clients.matchAll({ type: "window" }).then(function (pages) {
      if (outcome.sent || outcome.refused) {
        pages.forEach(function (page) { page.postMessage({ type: "marks-changed" }); });
      }
      if (outcome.stopped === "offline" || outcome.stopped === "later") {
        throw new Error("the marks wait: no answer yet");
      }
    });
  }));
});
