// The application's resource tree as a graph: the server renders every node (links, in tree
// order, so keyboard order follows the tree); this lays them out left to right with dagre,
// draws the edges in SVG, expands and collapses groups, zooms and pans. A live reload of the
// region keeps what the user did (expanded groups, zoom, scroll, focus). data-tree-ready="true"
// on the viewport says the graph is drawn.
import dagre from "@dagrejs/dagre";
import { startAppNav } from "./appnav.js";

const NODE_W = 260;
const NODE_H = 52;
const LAYOUT = { rankdir: "LR", nodesep: 14, ranksep: 48, marginx: 16, marginy: 16 };
const ZOOMS = [0.25, 0.4, 0.55, 0.7, 0.85, 1, 1.2, 1.5];
const SVG = "http://www.w3.org/2000/svg";

// Per tree (data-tree = "namespace/name"): what survives a reload of the region.
const memory = new Map();

function remembered(tree) {
  if (!memory.has(tree)) memory.set(tree, { expanded: new Set(), zoom: 1, scroll: null, focus: null });
  return memory.get(tree);
}

function nodesOf(viewport) {
  return Array.from(viewport.querySelectorAll("[data-node-id]"));
}

function applyGroups(viewport, state) {
  const groups = new Map();
  for (const el of viewport.querySelectorAll("[data-group-key]")) {
    const open = state.expanded.has(el.dataset.groupKey);
    el.setAttribute("aria-expanded", open ? "true" : "false");
    groups.set(el.dataset.nodeId, open);
  }
  for (const el of viewport.querySelectorAll("[data-in-group]")) {
    el.hidden = !groups.get(el.dataset.inGroup);
  }
}

function layout(viewport) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ ...LAYOUT });
  g.setDefaultEdgeLabel(() => ({}));
  const visible = nodesOf(viewport).filter((el) => !el.hidden);
  const ids = new Set(visible.map((el) => el.dataset.nodeId));
  for (const el of visible) g.setNode(el.dataset.nodeId, { width: NODE_W, height: NODE_H });
  const edges = [];
  for (const el of visible) {
    for (const parent of (el.dataset.parents || "").split(" ")) {
      if (parent && ids.has(parent)) {
        g.setEdge(parent, el.dataset.nodeId);
        edges.push([parent, el.dataset.nodeId]);
      }
    }
  }
  // Nodes come depth-first, so dagre's first ordering of a tree already has no crossings: its
  // crossing-reduction sweeps would cost most of the layout's time for nothing.
  dagre.layout(g, { disableOptimalOrderHeuristic: true });
  return { g, visible, edges };
}

function edgePath(from, to) {
  const x1 = from.x + NODE_W / 2;
  const y1 = from.y;
  const x2 = to.x - NODE_W / 2;
  const y2 = to.y;
  const mid = (x1 + x2) / 2;
  return `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
}

function place(viewport, { g, visible, edges }) {
  const canvas = viewport.querySelector(".graph-canvas");
  const { width, height } = g.graph();
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  for (const el of visible) {
    const box = g.node(el.dataset.nodeId);
    el.style.left = `${box.x - NODE_W / 2}px`;
    el.style.top = `${box.y - NODE_H / 2}px`;
  }
  let svg = canvas.querySelector("svg.graph-edges");
  if (!svg) {
    svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "graph-edges");
    svg.setAttribute("aria-hidden", "true");
    canvas.prepend(svg);
  }
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.replaceChildren(
    ...edges.map(([from, to]) => {
      const path = document.createElementNS(SVG, "path");
      path.setAttribute("d", edgePath(g.node(from), g.node(to)));
      return path;
    }),
  );
  return { width, height };
}

function zoomTo(viewport, state, zoom) {
  state.zoom = zoom;
  const sizer = viewport.querySelector(".graph-sizer");
  const canvas = viewport.querySelector(".graph-canvas");
  const width = parseFloat(canvas.style.width) || 0;
  const height = parseFloat(canvas.style.height) || 0;
  canvas.style.transform = zoom === 1 ? "" : `scale(${zoom})`;
  sizer.style.width = `${Math.ceil(width * zoom)}px`;
  sizer.style.height = `${Math.ceil(height * zoom)}px`;
}

function fitZoom(viewport) {
  const canvas = viewport.querySelector(".graph-canvas");
  const width = parseFloat(canvas.style.width) || 1;
  const height = parseFloat(canvas.style.height) || 1;
  const fit = Math.min(1, (viewport.clientWidth - 4) / width, (window.innerHeight * 0.7) / height);
  return Math.max(ZOOMS[0], fit);
}

function draw(viewport) {
  const start = performance.now();
  const state = remembered(viewport.dataset.tree);
  applyGroups(viewport, state);
  place(viewport, layout(viewport));
  zoomTo(viewport, state, state.zoom);
  viewport.dataset.treeReady = "true";
  // For benchmarks and the curious: how long laying out and drawing took.
  performance.measure("tether:tree-draw", { start, end: performance.now() });
}

function restore(viewport, state) {
  if (state.scroll) {
    viewport.scrollLeft = state.scroll[0];
    viewport.scrollTop = state.scroll[1];
    state.scroll = null;
  }
  if (state.focus) {
    const target = viewport.querySelector(state.focus);
    state.focus = null;
    if (target && !target.hidden) target.focus({ preventScroll: true });
  }
}

function selectorOf(el) {
  if (!el) return null;
  if (el.dataset.groupKey) return `[data-group-key="${CSS.escape(el.dataset.groupKey)}"]`;
  if (el.dataset.node) return `[data-node="${CSS.escape(el.dataset.node)}"]`;
  return null;
}

function pan(viewport) {
  let start = null;
  viewport.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || event.target.closest(".node")) return;
    start = { x: event.clientX, y: event.clientY, left: viewport.scrollLeft, top: viewport.scrollTop };
    viewport.setPointerCapture(event.pointerId);
    viewport.classList.add("panning");
  });
  viewport.addEventListener("pointermove", (event) => {
    if (!start) return;
    viewport.scrollLeft = start.left - (event.clientX - start.x);
    viewport.scrollTop = start.top - (event.clientY - start.y);
  });
  const stop = () => {
    start = null;
    viewport.classList.remove("panning");
  };
  viewport.addEventListener("pointerup", stop);
  viewport.addEventListener("pointercancel", stop);
}

function startOne(viewport) {
  if (viewport.dataset.treeStarted) return;
  viewport.dataset.treeStarted = "true";
  const state = remembered(viewport.dataset.tree);
  draw(viewport);
  restore(viewport, state);
  pan(viewport);
  viewport.addEventListener("click", (event) => {
    const group = event.target.closest("[data-group-key]");
    if (!group) return;
    const key = group.dataset.groupKey;
    if (state.expanded.has(key)) state.expanded.delete(key);
    else state.expanded.add(key);
    draw(viewport);
    group.focus({ preventScroll: true });
    // Bring the opened members' column into view, then make sure the group itself still is.
    const members = viewport.querySelectorAll(`[data-in-group="${CSS.escape(group.dataset.nodeId)}"]`);
    if (state.expanded.has(key) && members.length) {
      members[members.length - 1].scrollIntoView({ block: "nearest", inline: "nearest" });
    }
    group.scrollIntoView({ block: "nearest", inline: "nearest" });
  });
}

function zoomControls(root) {
  for (const button of root.querySelectorAll("[data-zoom]")) {
    if (button.dataset.zoomStarted) continue;
    button.dataset.zoomStarted = "true";
    button.addEventListener("click", () => {
      const viewport = document.querySelector("[data-tree][data-tree-ready]");
      if (!viewport) return;
      const state = remembered(viewport.dataset.tree);
      let zoom = state.zoom;
      if (button.dataset.zoom === "fit") zoom = fitZoom(viewport);
      else if (button.dataset.zoom === "in") zoom = ZOOMS.find((z) => z > state.zoom + 0.001) ?? zoom;
      else zoom = [...ZOOMS].reverse().find((z) => z < state.zoom - 0.001) ?? zoom;
      zoomTo(viewport, state, zoom);
    });
  }
}

// Before htmx replaces the resources region, note what the user was looking at.
function rememberBeforeSwap(event) {
  const target = event.detail.target;
  if (!target || target.id !== "app-resources") return;
  const viewport = target.querySelector("[data-tree]");
  if (!viewport) return;
  const state = remembered(viewport.dataset.tree);
  state.scroll = [viewport.scrollLeft, viewport.scrollTop];
  const focused = viewport.contains(document.activeElement) ? document.activeElement : null;
  state.focus = selectorOf(focused?.closest("[data-node-id]"));
}

let pageStarted = false;

export function startTree(root) {
  if (root === document && !pageStarted) {
    pageStarted = true;
    document.body.addEventListener("htmx:beforeSwap", rememberBeforeSwap);
    // A page restored from htmx's history cache lost its inline positions (the CSP drops
    // style attributes in parsed HTML): draw it again.
    document.body.addEventListener("htmx:historyRestore", () => {
      for (const viewport of document.querySelectorAll("[data-tree]")) {
        delete viewport.dataset.treeStarted;
        startOne(viewport);
      }
    });
    startAppNav();
  }
  const scope = root.querySelectorAll ? root : document;
  if (scope.matches?.("[data-tree]")) startOne(scope);
  for (const viewport of scope.querySelectorAll("[data-tree]")) startOne(viewport);
  zoomControls(scope);
}
