/* geovec explorer: a Leaflet map of one store, drawn from the server's /api.
 * Coordinates are [lon, lat] in everything the API returns (GeoJSON order); Leaflet
 * wants [lat, lon], converted at the last moment. */
"use strict";

const state = {
  info: null,
  feature: null,
  colourBy: "region",
  points: [],          // {id, lon, lat, region, split, isolated}
  grid: null,          // spatial buckets of points, for drawing and clicking
  loadedPoints: 0,
  selected: null,
  heatmapTiles: 0,
  sqlPoints: 0,
  searchHits: 0,
  errors: [],
};
window.geovecExplorer = state;  // read by the browser tests

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const STATUS_COLOURS = { isolated: "#ff3b30", train: "#1e90ff", test: "#ffd60a", other: "#bbbbbb" };

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

async function api(path, options) {
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) throw new Error((body && body.error) || `${response.status} ${response.statusText}`);
  return body;
}

function fmt(x, digits) { return x === null || x === undefined ? "—" : Number(x).toFixed(digits); }

/* ---------------------------------------------------------------- the map */

const map = L.map("map", { preferCanvas: true, zoomControl: true, attributionControl: true });
map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
window.geovecMap = map;
const canvas = L.canvas({ padding: 0.3 });
const heatmapLayer = L.layerGroup();
const landcoverLayer = L.layerGroup();
const sqlLayer = L.layerGroup();
const searchLayer = L.layerGroup();
const selectionLayer = L.layerGroup().addTo(map);

/* A region of null is shown as "no region" and asked for as region= (empty). */
function regionName(region) { return region == null || region === "" ? "no region" : region; }
function regionAddress(region) { return region == null ? "" : region; }

function regionColour(region) {
  const names = state.info.regions.map((r) => r.region);
  const i = names.indexOf(region);
  return PALETTE[(i < 0 ? names.length : i) % PALETTE.length];
}

function statusOf(p) {
  if (p.isolated) return "isolated";
  if (p.split === "train" || p.split === "test") return p.split;
  return "other";
}

function pointColour(p) {
  return state.colourBy === "region" ? regionColour(p.region) : STATUS_COLOURS[statusOf(p)];
}

/* Points are bucketed in cells of CELL degrees; a canvas tile draws only its cells. */
const CELL = 0.01;
function cellKey(lon, lat) { return Math.floor(lon / CELL) + ":" + Math.floor(lat / CELL); }

function indexPoints(points) {
  const grid = new Map();
  for (const p of points) {
    const key = cellKey(p.lon, p.lat);
    let bucket = grid.get(key);
    if (!bucket) grid.set(key, (bucket = []));
    bucket.push(p);
  }
  return grid;
}

function pointsIn(west, south, east, north) {
  const out = [];
  if (!state.grid) return out;
  const cx0 = Math.floor(west / CELL), cx1 = Math.floor(east / CELL);
  const cy0 = Math.floor(south / CELL), cy1 = Math.floor(north / CELL);
  if ((cx1 - cx0 + 1) * (cy1 - cy0 + 1) > state.grid.size * 4) {
    for (const bucket of state.grid.values()) for (const p of bucket) out.push(p);
    return out;
  }
  for (let cx = cx0; cx <= cx1; cx++) for (let cy = cy0; cy <= cy1; cy++) {
    const bucket = state.grid.get(cx + ":" + cy);
    if (bucket) for (const p of bucket) out.push(p);
  }
  return out;
}

const PointsLayer = L.GridLayer.extend({
  createTile(coords) {
    const tile = document.createElement("canvas");
    const size = this.getTileSize();
    tile.width = size.x; tile.height = size.y;
    const ctx = tile.getContext("2d");
    const nw = coords.scaleBy(size);
    const pad = 6;
    const a = map.unproject(nw.subtract([pad, pad]), coords.z);
    const b = map.unproject(nw.add(size).add([pad, pad]), coords.z);
    const radius = coords.z >= 15 ? 4 : coords.z >= 12 ? 3 : 2;
    const found = pointsIn(a.lng, b.lat, b.lng, a.lat);
    for (const p of found) {
      const at = map.project([p.lat, p.lon], coords.z).subtract(nw);
      ctx.beginPath();
      ctx.arc(at.x, at.y, radius, 0, 2 * Math.PI);
      ctx.fillStyle = pointColour(p);
      ctx.fill();
      if (radius > 2) { ctx.lineWidth = 1; ctx.strokeStyle = "#000"; ctx.stroke(); }
    }
    tile.dataset.points = found.length;
    return tile;
  },
});
const pointsLayer = new PointsLayer({ pane: "markerPane", zIndex: 5 });

function nearestPoint(latlng, pixels) {
  const z = map.getZoom();
  const at = map.project(latlng, z);
  const reach = map.unproject(at.add([pixels, pixels]), z);
  const dLon = Math.abs(reach.lng - latlng.lng), dLat = Math.abs(reach.lat - latlng.lat);
  let best = null, bestD = pixels * pixels;
  for (const p of pointsIn(latlng.lng - dLon, latlng.lat - dLat, latlng.lng + dLon, latlng.lat + dLat)) {
    const d = map.project([p.lat, p.lon], z).subtract(at);
    const dd = d.x * d.x + d.y * d.y;
    if (dd <= bestD) { best = p; bestD = dd; }
  }
  return best;
}

/* ---------------------------------------------------------------- loading */

async function loadPoints() {
  const b = state.info.bounds;
  const bbox = b ? [b[0] - 0.05, b[1] - 0.05, b[2] + 0.05, b[3] + 0.05]
    .map((v, i) => Math.max(i % 2 ? -90 : -180, Math.min(i % 2 ? 90 : 180, v))).join(",") : null;
  let offset = 0;
  const points = [];
  while (offset !== null) {
    const query = new URLSearchParams({ offset, limit: 50000 });
    if (bbox) query.set("bbox", bbox);
    const page = await api("/api/points?" + query);
    for (const f of page.features) {
      const [lon, lat] = f.geometry.coordinates;
      points.push({ lon, lat, ...f.properties });
    }
    offset = page.next_offset;
    state.points = points;
    state.grid = indexPoints(points);
    state.loadedPoints = points.length;
    pointsLayer.redraw();
  }
}

function summary() {
  const c = state.info.counts;
  const parts = Object.entries(c).filter(([t]) => t !== "failures").map(([t, n]) => `${n.toLocaleString()} ${t}`);
  $("store-summary").textContent = parts.join(" · ");
}

function fillFeatures() {
  const select = $("feature");
  select.replaceChildren();
  for (const f of state.info.usable_features) select.append(el("option", { value: f }, f));
  select.value = state.feature = state.info.default_feature;
  select.addEventListener("change", () => {
    state.feature = select.value;
    if (map.hasLayer(landcoverLayer)) showLandcover();
    if (state.selected) selectPhoto(state.selected.id);
  });
}

function regionBounds(r) { return [[r.south, r.west], [r.north, r.east]]; }

function fillRegions() {
  const select = $("region");
  select.replaceChildren();
  for (const r of state.info.regions) {
    select.append(el("option", { value: regionAddress(r.region) }, `${regionName(r.region)} (${r.images} photos)`));
  }
  select.addEventListener("change", () => {
    const r = state.info.regions.find((x) => regionAddress(x.region) === select.value);
    if (r && r.west != null) map.fitBounds(regionBounds(r), { padding: [20, 20] });
  });
}

function drawLegend() {
  const legend = $("legend");
  legend.replaceChildren();
  const entries = state.colourBy === "region"
    ? state.info.regions.map((r) => [regionName(r.region), regionColour(r.region)])
    : Object.entries(STATUS_COLOURS);
  for (const [name, colour] of entries) {
    const swatch = el("i"); swatch.style.background = colour;
    legend.append(el("span", {}, swatch, name));
  }
}

/* ---------------------------------------------------------------- photo */

async function selectPhoto(id) {
  state.selected = { id };
  selectionLayer.clearLayers(); heatmapLayer.clearLayers(); searchLayer.clearLayers();
  state.heatmapTiles = 0;
  const section = $("selection");
  section.hidden = false;
  $("selection-title").textContent = "Photo " + id;
  const body = $("selection-body");
  const q = (extra) => new URLSearchParams({ id, feature: state.feature, ...extra });
  const facts = el("table", { class: "facts", id: "photo-facts" });
  const neighbourBox = el("div", { class: "thumbs", id: "neighbours" });
  const heatInfo = el("div", { id: "heatmap-info", class: "small muted" }, "localising…");
  body.replaceChildren(
    el("img", { class: "photo", id: "photo-image", alt: id, src: "/api/image/ground?" + new URLSearchParams({ id, px: 640 }) }),
    facts,
    el("h2", {}, "Localisation heatmap"), heatInfo,
    el("h2", {}, `Nearest photos by ${state.feature}`), neighbourBox,
  );
  const p = state.points.find((x) => x.id === id);
  if (p) {
    for (const [k, v] of [["id", p.id], ["lon, lat", `${fmt(p.lon, 6)}, ${fmt(p.lat, 6)}`], ["region", regionName(p.region)],
                          ["split", p.split || "—"], ["isolated", p.isolated ? "yes" : "no"]]) {
      facts.append(el("tr", {}, el("td", {}, k), el("td", {}, v)));
    }
    L.circleMarker([p.lat, p.lon], { radius: 9, color: "#fff", weight: 3, fill: false, renderer: canvas })
      .addTo(selectionLayer);
  }
  const [neighbours, heat] = await Promise.allSettled([
    api("/api/neighbors?" + q({ k: 9 })),
    api("/api/heatmap?" + q({})),
  ]);
  if (state.selected.id !== id) return;
  if (neighbours.status === "fulfilled") {
    for (const f of neighbours.value.features) {
      const n = f.properties;
      neighbourBox.append(el("figure", { title: n.id, onclick: () => selectPhoto(n.id) },
        el("img", { alt: n.id, src: "/api/image/ground?" + new URLSearchParams({ id: n.id, px: 200 }) }),
        el("figcaption", {}, `${n.id} · ${fmt(n.distance, 3)}`)));
      if (f.geometry) {
        const [lon, lat] = f.geometry.coordinates;
        L.circleMarker([lat, lon], { radius: 6, color: "#00e5ff", weight: 2, fill: false, renderer: canvas })
          .bindTooltip(el("span", {}, n.id)).addTo(selectionLayer);
      }
    }
  } else neighbourBox.replaceChildren(el("p", { class: "error" }, neighbours.reason.message));
  if (heat.status === "fulfilled") drawHeatmap(heat.value, heatInfo);
  else heatInfo.replaceChildren(el("span", { class: "error" }, heat.reason.message));
}

function drawHeatmap(h, info) {
  heatmapLayer.clearLayers();
  const opacity = state.info.heatmap_opacity;
  const tooltips = new Map();
  state.tileTooltip = (id) => tooltips.has(id) && tooltips.get(id).getTooltip().getContent().textContent;
  L.geoJSON(h.tiles, {
    renderer: canvas,
    style: (f) => ({ fillColor: f.properties.colour, fillOpacity: opacity, stroke: false }),
    onEachFeature: (f, layer) => {
      tooltips.set(f.properties.id, layer);
      layer.bindTooltip(el("span", {}, `tile ${f.properties.id}: rank ${f.properties.rank} of ${h.candidates}, distance ${fmt(f.properties.score, 3)}`));
    },
  }).addTo(heatmapLayer);
  const best = new Set(h.best.slice(0, 5).map((b) => b.id));
  L.geoJSON({ type: "FeatureCollection", features: h.tiles.features.filter((f) => best.has(f.properties.id)) }, {
    renderer: canvas, style: { color: "#00ffff", weight: 2, fill: false },
  }).addTo(heatmapLayer);
  if (h.true_lonlat) {
    const [lon, lat] = h.true_lonlat;
    L.marker([lat, lon], { icon: L.divIcon({ className: "star-icon", html: "★", iconSize: [26, 26] }), title: "true location" })
      .addTo(heatmapLayer);
  }
  heatmapLayer.addTo(map);
  state.heatmapTiles = h.tiles.features.length;
  info.replaceChildren(
    el("div", { id: "heatmap-rank" }, `${h.feature}, ${regionName(h.region)}: ${trueRankText(h)}`),
    el("div", { class: "colourbar" }),
    el("div", { class: "colourbar-labels" }, el("span", {}, "less similar"), el("span", {}, "more similar")),
    el("div", {}, "cyan: best 5 tiles · green star: true location"),
  );
  if (h.note) info.append(el("div", { id: "heatmap-note" }, h.note));
}

/* The API's true_rank counts the tiles strictly closer than the true one (0: it is the
 * best); the page numbers tiles from 1, as the tiles' own rank does: "rank 1 of N". */
function trueRankText(h) {
  if (h.true_rank === null || h.true_rank === undefined) {
    return h.true_lonlat ? "no tile of the region holds the photo's position" : "position unknown";
  }
  const rank = h.true_rank + 1;
  return `true tile ${h.true_tile}: rank ${rank} of ${h.candidates} (top ${fmt(100 * rank / h.candidates, 1)} %)`;
}

/* ---------------------------------------------------------------- tile search */

async function searchFromTile(latlng) {
  let tile;
  try {
    tile = await api("/api/tile?" + new URLSearchParams({ lon: latlng.lng, lat: latlng.lat }));
  } catch (e) { return; }  // outside every tile
  state.selected = null;
  selectionLayer.clearLayers(); searchLayer.clearLayers();
  L.geoJSON(tile.geometry, { renderer: canvas, style: { color: "#ffea00", weight: 3, fill: false } }).addTo(searchLayer);
  searchLayer.addTo(map);
  $("selection").hidden = false;
  $("selection-title").textContent = "Aerial tile " + tile.id;
  const hitsBox = el("div", { class: "thumbs", id: "search-hits" });
  $("selection-body").replaceChildren(
    el("img", { class: "photo", id: "tile-image", alt: tile.id, src: "/api/image/map?" + new URLSearchParams({ id: tile.id }) }),
    el("h2", {}, `Ground photos whose aerial images look most like it (${state.feature})`),
    hitsBox,
  );
  try {
    const found = await api("/api/search?" + new URLSearchParams({ tile: tile.id, feature: state.feature, k: 9 }));
    for (const f of found.features) {
      const h = f.properties;
      hitsBox.append(el("figure", { title: h.id, onclick: () => selectPhoto(h.id) },
        el("img", { alt: h.id, src: "/api/image/ground?" + new URLSearchParams({ id: h.id, px: 200 }) }),
        el("figcaption", {}, `${h.id} · ${fmt(h.distance, 3)}`)));
      if (f.geometry) {
        const [lon, lat] = f.geometry.coordinates;
        L.circleMarker([lat, lon], { radius: 6, color: "#ffea00", weight: 2, fill: false, renderer: canvas })
          .bindTooltip(el("span", {}, h.id)).addTo(searchLayer);
      }
    }
    state.searchHits = found.features.length;
  } catch (e) { hitsBox.replaceChildren(el("p", { class: "error" }, e.message)); }
}

/* ---------------------------------------------------------------- land cover */

async function showLandcover() {
  landcoverLayer.clearLayers();
  for (const r of state.info.regions) {
    try {
      const lc = await api("/api/landcover?" + new URLSearchParams({ region: regionAddress(r.region), feature: state.feature }));
      const [w, s, e, n] = lc.bounds;
      L.imageOverlay(lc.url, [[s, w], [n, e]], { opacity: 0.85, alt: "land cover " + regionName(r.region) }).addTo(landcoverLayer);
    } catch (e) { state.errors.push(e.message); }
  }
}

/* ---------------------------------------------------------------- SQL */

async function runSql() {
  const status = $("sql-status");
  const out = $("sql-result");
  status.textContent = "running…"; status.className = "muted small";
  sqlLayer.clearLayers(); state.sqlPoints = 0;
  try {
    const r = await api("/api/sql", { method: "POST", headers: { "Content-Type": "application/json" },
                                      body: JSON.stringify({ query: $("sql-text").value, limit: 5000 }) });
    const table = el("table", {}, el("tr", {}, ...r.columns.map((c) => el("th", {}, c))));
    r.rows.slice(0, 200).forEach((row) => table.append(el("tr", {}, ...row.map((v) => el("td", {}, v === null ? "NULL" : v)))));
    out.replaceChildren(table);
    let shown = 0;
    if (r.lonlat) {
      const lon = r.columns.indexOf("lon"), lat = r.columns.indexOf("lat"), id = r.columns.indexOf("id");
      for (const row of r.rows) {
        if (row[lon] === null || row[lat] === null) continue;
        const m = L.circleMarker([row[lat], row[lon]], { radius: 5, color: "#ff00ff", weight: 2, fillOpacity: 0.4, renderer: canvas });
        if (id >= 0) m.bindTooltip(el("span", {}, String(row[id])));
        m.addTo(sqlLayer); shown++;
      }
      sqlLayer.addTo(map);
    }
    state.sqlPoints = shown;
    status.textContent = `${r.rows.length}${r.truncated ? "+" : ""} rows` + (r.lonlat ? `, ${shown} on the map` : " (add lon, lat columns to map them)");
  } catch (e) {
    out.replaceChildren(); status.textContent = e.message; status.className = "error small";
  }
}

/* ---------------------------------------------------------------- start */

async function start() {
  state.info = await api("/api/info");
  summary();
  fillFeatures();
  drawLegend();
  fillRegions();
  const b = state.info.bounds;
  const first = state.info.regions.find((r) => r.west != null); // a region with a position
  if (first) map.fitBounds(regionBounds(first), { padding: [20, 20] });
  else if (b) map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [20, 20] });
  else map.setView([0, 0], 2);
  const overlays = {};
  if (state.info.basemap_zoom !== null) {
    const z = state.info.basemap_zoom;
    const aerial = L.tileLayer("/api/tiles/{z}/{x}/{y}.png", {
      minNativeZoom: z, maxNativeZoom: z + 5, minZoom: Math.max(0, z - 2), maxZoom: 22,
      attribution: "aerial tiles of this store",
    }).addTo(map);
    overlays["Aerial tiles (the store's map)"] = aerial;
  }
  overlays["Ground photos"] = pointsLayer.addTo(map);
  overlays["Land cover (PCA, Fig. 7)"] = landcoverLayer;
  overlays["Localisation heatmap (Fig. 10)"] = heatmapLayer;
  overlays["Aerial search hits (Fig. 8)"] = searchLayer;
  overlays["SQL results"] = sqlLayer;
  L.control.layers(null, overlays, { collapsed: false }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  map.on("overlayadd", (e) => { if (e.layer === landcoverLayer) showLandcover(); });
  map.on("click", (e) => {
    // on the map's repeated world copies Leaflet reports longitudes past +-180: the
    // points and the tile search are asked about the same place on the one globe
    const latlng = e.latlng.wrap();
    const p = nearestPoint(latlng, 8);
    if (p) selectPhoto(p.id); else searchFromTile(latlng);
  });
  $("colour-by").addEventListener("change", (e) => { state.colourBy = e.target.value; drawLegend(); pointsLayer.redraw(); });
  $("sql-run").addEventListener("click", runSql);
  $("sql-clear").addEventListener("click", () => { sqlLayer.clearLayers(); $("sql-result").replaceChildren(); $("sql-status").textContent = ""; state.sqlPoints = 0; });
  await loadPoints();
  state.ready = true;
}

start().catch((e) => {
  state.errors.push(e.message);
  $("store-summary").textContent = "error: " + e.message;
  $("store-summary").className = "error";
});
