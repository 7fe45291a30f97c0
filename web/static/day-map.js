// The day's map: a marker per building and the route line, drawn with Leaflet from the GeoJSON
// that the page embeds (#route-data). Without tiles (offline) the markers and line still show
// on a blank background, and the timeline beside the map carries everything anyway.
//
// Which stops share a building is decided on the server (scheduler/present/geojson.py): each
// "building" feature lists its stops, and each stop is drawn in its own state's colour
// ("1 ✓ · 3 ○"). What is left to do here depends on the zoom: markers of different buildings
// that would overlap on screen are spread apart around their middle, each with a thin line
// to where it really is, so every one can be seen and tapped. Hand-written rather than a
// cluster plug-in because a cluster hides the stops behind a count, and a therapist needs
// every stop's number and state.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("map");
  var source = document.getElementById("route-data");
  if (!element || !source || typeof L === "undefined") { return; }
  var data = JSON.parse(source.textContent);

  var map = L.map(element, { scrollWheelZoom: false, keyboard: true });
  var tiles = element.getAttribute("data-tile-url");
  if (tiles) {
    L.tileLayer(tiles, {
      maxZoom: 19,
      attribution: element.getAttribute("data-tile-attribution") || ""
    }).addTo(map);
  }

  // What the markers say is in the timeline too: they are hidden from screen readers.
  map.getPane("markerPane").setAttribute("aria-hidden", "true");

  var MARKER_HEIGHT = 28;
  var GAP = 4;  // pixels kept between two markers' edges
  var places = [];
  data.features.forEach(function (feature) {
    var geometry = feature.geometry;
    var props = feature.properties || {};
    if (geometry.type === "LineString") {
      var points = geometry.coordinates.map(function (c) { return [c[1], c[0]]; });
      L.polyline(points, { className: "route-line", weight: 4, opacity: 0.8 }).addTo(map);
      return;
    }
    if (props.kind !== "home" && props.kind !== "building") { return; }
    places.push({ at: L.latLng(geometry.coordinates[1], geometry.coordinates[0]), props: props });
  });

  function escapeText(text) {
    return String(text).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c];
    });
  }

  function iconFor(place) {
    var props = place.props;
    var html, chars;
    if (props.kind === "home") {
      html = "<span class=\"part home\">⌂</span>";
      chars = 1;
    } else {
      html = props.stops.map(function (stop) {
        return "<span class=\"part state-" + escapeText(stop.state) + "\" data-stop-id=\"" +
          escapeText(stop.stop_id) + "\">" + escapeText(stop.number) + " " +
          escapeText(stop.sign) + "</span>";
      }).join("");
      chars = props.label.length;
    }
    var width = Math.max(MARKER_HEIGHT, 14 + 8 * chars);
    place.width = width;
    return L.divIcon({
      className: "stop-marker" + (props.kind === "home" ? " home" : ""),
      html: "<span class=\"parts\">" + html + "</span>",
      iconSize: [width, MARKER_HEIGHT],
      iconAnchor: [width / 2, MARKER_HEIGHT / 2]
    });
  }

  var bounds = [];
  places.forEach(function (place) {
    bounds.push(place.at);
    var home = place.props.kind === "home";
    // Not in the keyboard's path: a marker only leads to its stop's row, and the timeline
    // (before the map in the page) is the way through the day by keyboard or screen reader.
    place.marker = L.marker(place.at, {
      icon: iconFor(place), keyboard: false,
      title: home ? "Home base" : place.props.title,
      alt: home ? "Home base" : place.props.title
    });
    if (!home) {
      place.marker.on("click", function () {
        var first = place.props.stops[0];
        var card = document.getElementById("stop-" + first.stop_id);
        if (card) { card.scrollIntoView({ behavior: "smooth", block: "center" }); }
      });
    }
    place.marker.addTo(map);
  });

  // Markers overlap when their boxes (plus a gap) meet on screen.
  function overlap(a, b, pa, pb) {
    return Math.abs(pa.x - pb.x) < (a.width + b.width) / 2 + GAP &&
      Math.abs(pa.y - pb.y) < MARKER_HEIGHT + GAP;
  }

  var leaders = L.layerGroup().addTo(map);

  // Groups of markers that overlap (directly or through one another) at this zoom; each group
  // of more than one is laid out in a column centred on the group's middle, in stop order, and
  // each marker keeps a thin line to its true position.
  function spread() {
    leaders.clearLayers();
    var points = places.map(function (place) { return map.latLngToLayerPoint(place.at); });
    var group = places.map(function (_, i) { return i; });
    function find(i) { while (group[i] !== i) { i = group[i] = group[group[i]]; } return i; }
    for (var i = 0; i < places.length; i++) {
      for (var j = i + 1; j < places.length; j++) {
        if (overlap(places[i], places[j], points[i], points[j])) { group[find(i)] = find(j); }
      }
    }
    var members = {};
    places.forEach(function (_, k) { (members[find(k)] = members[find(k)] || []).push(k); });
    Object.keys(members).forEach(function (root) {
      var list = members[root];
      if (list.length === 1) { places[list[0]].marker.setLatLng(places[list[0]].at); return; }
      var cx = 0, cy = 0;
      list.forEach(function (k) { cx += points[k].x; cy += points[k].y; });
      cx /= list.length; cy /= list.length;
      list.sort(function (a, b) { return points[a].y - points[b].y || points[a].x - points[b].x; });
      var step = MARKER_HEIGHT + GAP * 2;
      var top = cy - step * (list.length - 1) / 2;
      list.forEach(function (k, n) {
        var shown = map.layerPointToLatLng(L.point(cx, top + n * step));
        places[k].marker.setLatLng(shown);
        L.polyline([places[k].at, shown], {
          className: "marker-leader", weight: 1, opacity: 0.7, interactive: false
        }).addTo(leaders);
      });
    });
  }

  map.on("zoomend viewreset", spread);
  if (bounds.length === 1) { map.setView(bounds[0], 14); }
  else if (bounds.length > 1) { map.fitBounds(bounds, { padding: [24, 24] }); }
  spread();
  element.setAttribute("data-map-ready", "true");
});
