// The day's map: numbered stops and the route line, drawn with Leaflet from the GeoJSON that
// the page embeds (#route-data). Without tiles (offline) the markers and line still show on
// a blank background, and the timeline beside the map carries everything anyway.
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

  // Stops in one building share a place: one marker carries all their numbers ("1·6").
  var places = [];
  var byKey = {};
  data.features.forEach(function (feature) {
    var geometry = feature.geometry;
    var props = feature.properties || {};
    if (geometry.type === "LineString") {
      var points = geometry.coordinates.map(function (c) { return [c[1], c[0]]; });
      L.polyline(points, { className: "route-line", weight: 4, opacity: 0.8 }).addTo(map);
      return;
    }
    var at = [geometry.coordinates[1], geometry.coordinates[0]];
    var key = props.kind + ":" + at[0].toFixed(5) + "," + at[1].toFixed(5);
    if (!byKey[key]) {
      byKey[key] = { at: at, kind: props.kind, state: props.state, stops: [] };
      places.push(byKey[key]);
    }
    byKey[key].stops.push(props);
  });

  var bounds = [];
  places.forEach(function (place) {
    bounds.push(place.at);
    var home = place.kind === "home";
    var numbers = place.stops.map(function (p) { return String(p.number); });
    var label = home ? "⌂" : numbers.join("·");
    var icon = L.divIcon({
      className: "stop-marker " + (home ? "home" : "state-" + place.state),
      html: "<span>" + label + "</span>",
      iconSize: [Math.max(28, 12 + 9 * label.length), 28],
      iconAnchor: [Math.max(14, 6 + 4.5 * label.length), 14]
    });
    var title = home ? "Home base"
      : (numbers.length > 1 ? "Stops " + numbers.join(" and ") : "Stop " + numbers[0]);
    var marker = L.marker(place.at, { icon: icon, keyboard: true, title: title });
    if (!home) {
      marker.on("click", function () {
        var card = document.getElementById("stop-" + place.stops[0].stop_id);
        if (card) { card.scrollIntoView({ behavior: "smooth", block: "center" }); }
      });
    }
    marker.addTo(map);
  });
  if (bounds.length === 1) { map.setView(bounds[0], 14); }
  else if (bounds.length > 1) { map.fitBounds(bounds, { padding: [24, 24] }); }
});
