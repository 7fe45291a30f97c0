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

  var bounds = [];
  data.features.forEach(function (feature) {
    var geometry = feature.geometry;
    var props = feature.properties || {};
    if (geometry.type === "LineString") {
      var points = geometry.coordinates.map(function (c) { return [c[1], c[0]]; });
      L.polyline(points, { className: "route-line", weight: 4, opacity: 0.8 }).addTo(map);
      return;
    }
    var at = [geometry.coordinates[1], geometry.coordinates[0]];
    bounds.push(at);
    var label = props.kind === "home" ? "⌂" : String(props.number);
    var icon = L.divIcon({
      className: "stop-marker " + (props.kind === "home" ? "home" : "state-" + props.state),
      html: "<span>" + label + "</span>",
      iconSize: [28, 28],
      iconAnchor: [14, 14]
    });
    var marker = L.marker(at, { icon: icon, keyboard: true,
      title: props.kind === "home" ? "Home base" : "Stop " + props.number });
    if (props.kind === "stop") {
      marker.on("click", function () {
        var card = document.getElementById("stop-" + props.stop_id);
        if (card) { card.scrollIntoView({ behavior: "smooth", block: "center" }); }
      });
    }
    marker.addTo(map);
  });
  if (bounds.length === 1) { map.setView(bounds[0], 14); }
  else if (bounds.length > 1) { map.fitBounds(bounds, { padding: [24, 24] }); }
});
