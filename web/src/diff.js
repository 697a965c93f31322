// A resource's diff: live (left) against desired (right), side by side or unified, computed in
// the browser with jsdiff from the two YAML texts the server put in the page's data attributes. Changed
// lines are marked by colour and by a -/+ sign (and words for screen readers); long unchanged
// stretches fold into a button that shows them. Text only ever goes in as textContent.
import { diffLines, diffWordsWithSpace } from "diff";

const CONTEXT = 3; // unchanged lines kept around each change
const MODE_KEY = "tether.diff.mode";
const WORDS_UP_TO = 400;
const SHOW_WHOLE_UP_TO = 400; // lines of an unchanged object shown without folding // longer changed lines are marked whole, not word by word

function linesOf(text) {
  if (!text) return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

// Rows of the side-by-side view: a removed run next to the added run that follows it.
export function diffRows(live, desired) {
  const parts = diffLines(live, desired);
  const rows = [];
  let left = 1;
  let right = 1;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part.removed) {
      const removed = linesOf(part.value);
      const added = parts[i + 1]?.added ? linesOf(parts[++i].value) : [];
      for (let k = 0; k < Math.max(removed.length, added.length); k++) {
        rows.push({
          left: k < removed.length ? { n: left++, text: removed[k], change: "removed" } : null,
          right: k < added.length ? { n: right++, text: added[k], change: "added" } : null,
        });
      }
    } else if (part.added) {
      for (const text of linesOf(part.value)) rows.push({ left: null, right: { n: right++, text, change: "added" } });
    } else {
      for (const text of linesOf(part.value)) {
        rows.push({ left: { n: left++, text, change: "same" }, right: { n: right++, text, change: "same" } });
      }
    }
  }
  return rows;
}

function changed(row) {
  return row.left?.change !== "same" || row.right?.change !== "same";
}

// Which rows show: every change with CONTEXT rows around it; the rest fold (unless opened).
function visibility(rows, opened) {
  const same = !rows.some(changed);
  // Nothing differs: show the object whole (unless it is long), there is nothing to point at.
  const show = new Array(rows.length).fill(same && rows.length <= SHOW_WHOLE_UP_TO);
  rows.forEach((row, i) => {
    if (!changed(row)) return;
    for (let k = Math.max(0, i - CONTEXT); k <= Math.min(rows.length - 1, i + CONTEXT); k++) show[k] = true;
  });
  const items = [];
  let i = 0;
  while (i < rows.length) {
    if (show[i] || opened.has(i)) {
      items.push({ row: rows[i], index: i });
      i++;
      continue;
    }
    const start = i;
    while (i < rows.length && !show[i] && !opened.has(i)) i++;
    items.push({ fold: [start, i] });
  }
  return items;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const SIGN = { removed: "-", added: "+", same: " " };
const SAID = { removed: "removed: ", added: "added: ", same: "" };

// The line's text, with the words that differ from its partner marked.
function textOf(side, partner) {
  const span = el("span", "text");
  if (!partner || side.change === "same" || side.text.length + partner.text.length > WORDS_UP_TO) {
    span.textContent = side.text;
    return span;
  }
  const [oldText, newText] = side.change === "removed" ? [side.text, partner.text] : [partner.text, side.text];
  for (const part of diffWordsWithSpace(oldText, newText)) {
    if (side.change === "removed" ? part.added : part.removed) continue;
    const differs = side.change === "removed" ? part.removed : part.added;
    span.append(differs ? el("span", "word", part.value) : document.createTextNode(part.value));
  }
  return span;
}

function codeCell(side, partner, name) {
  if (!side) {
    const blank = el("td", "code blank");
    blank.colSpan = 2;
    return [blank];
  }
  const number = el("td", "ln", String(side.n));
  const code = el("td", `code ${side.change}`);
  code.dataset.side = name;
  code.dataset.change = side.change;
  code.append(el("span", "sign", SIGN[side.change]));
  code.lastChild.setAttribute("aria-hidden", "true");
  if (SAID[side.change]) code.append(el("span", "visually-hidden", SAID[side.change]));
  code.append(textOf(side, partner));
  return [number, code];
}

function foldRow(fold, columns, open) {
  const tr = el("tr", "fold");
  const td = el("td");
  td.colSpan = columns;
  const count = fold[1] - fold[0];
  const button = el("button", "fold-button", `Show ${count} unchanged line${count === 1 ? "" : "s"}`);
  button.type = "button";
  button.addEventListener("click", () => open(fold));
  td.append(button);
  tr.append(td);
  return tr;
}

// Fixed column widths: line numbers narrow, code sharing the rest.
function columns(table, kinds) {
  const group = el("colgroup");
  for (const kind of kinds) group.append(el("col", kind));
  table.append(group);
}

function header(labels) {
  const thead = el("thead");
  const tr = el("tr");
  for (const [label, span] of labels) {
    const th = el("th", "", label);
    th.scope = "col";
    th.colSpan = span;
    tr.append(th);
  }
  thead.append(tr);
  return thead;
}

function splitTable(items, open) {
  const table = el("table", "diff-table diff-split");
  columns(table, ["col-ln", "col-code", "col-ln", "col-code"]);
  table.append(header([["Live", 2], ["Desired", 2]]));
  const body = el("tbody");
  for (const item of items) {
    if (item.fold) {
      body.append(foldRow(item.fold, 4, open));
      continue;
    }
    const { left, right } = item.row;
    const tr = el("tr");
    tr.dataset.change = changed(item.row) ? "changed" : "same";
    tr.append(...codeCell(left, right, "live"), ...codeCell(right, left, "desired"));
    body.append(tr);
  }
  table.append(body);
  return table;
}

function unifiedTable(items, open) {
  const table = el("table", "diff-table diff-unified");
  columns(table, ["col-ln", "col-ln", "col-code"]);
  table.append(header([["Live", 1], ["Desired", 1], ["", 1]]));
  const body = el("tbody");
  const line = (side, partner, leftN, rightN) => {
    const tr = el("tr");
    tr.dataset.change = side.change;
    const code = codeCell(side, partner, side.change === "added" ? "desired" : "live")[1];
    tr.append(el("td", "ln", leftN), el("td", "ln", rightN), code);
    body.append(tr);
  };
  // A run of changes reads as a patch does: its removed lines, then its added lines.
  let run = [];
  const flush = () => {
    for (const row of run) if (row.left) line(row.left, row.right, String(row.left.n), "");
    for (const row of run) if (row.right) line(row.right, row.left, "", String(row.right.n));
    run = [];
  };
  for (const item of items) {
    if (item.fold) {
      flush();
      body.append(foldRow(item.fold, 3, open));
    } else if (changed(item.row)) {
      run.push(item.row);
    } else {
      flush();
      line(item.row.left, null, String(item.row.left.n), String(item.row.right.n));
    }
  }
  flush();
  table.append(body);
  return table;
}

function summary(rows) {
  const removed = rows.filter((r) => r.left?.change === "removed").length;
  const added = rows.filter((r) => r.right?.change === "added").length;
  if (!removed && !added) return "No differences: the live object is as Git wants it.";
  const part = (n, word) => `${n} line${n === 1 ? "" : "s"} ${word}`;
  return `${part(removed, "removed")}, ${part(added, "added")} (live → desired).`;
}

function startOne(box) {
  if (box.dataset.diffStarted) return;
  box.dataset.diffStarted = "true";
  const rows = diffRows(box.dataset.diffLive || "", box.dataset.diffDesired || "");
  const view = box.querySelector("[data-diff-view]");
  const opened = new Set();
  let mode = window.localStorage?.getItem(MODE_KEY) === "unified" ? "unified" : "split";
  const render = () => {
    const items = visibility(rows, opened);
    const open = ([start, end]) => {
      for (let i = start; i < end; i++) opened.add(i);
      render();
    };
    view.replaceChildren(mode === "split" ? splitTable(items, open) : unifiedTable(items, open));
    view.dataset.mode = mode;
    for (const button of box.querySelectorAll("[data-diff-mode]")) {
      button.setAttribute("aria-pressed", button.dataset.diffMode === mode ? "true" : "false");
    }
  };
  for (const button of box.querySelectorAll("[data-diff-mode]")) {
    button.addEventListener("click", () => {
      mode = button.dataset.diffMode;
      window.localStorage?.setItem(MODE_KEY, mode);
      render();
    });
  }
  box.querySelector("[data-diff-summary]").textContent = summary(rows);
  render();
  box.dataset.diffReady = "true";
}

export function startDiff(root) {
  const scope = root.querySelectorAll ? root : document;
  if (scope.matches?.("[data-diff]")) startOne(scope);
  for (const box of scope.querySelectorAll("[data-diff]")) startOne(box);
}
