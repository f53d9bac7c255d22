// What the pages do in the browser beyond htmx. It lives here, not inline in the
// templates: the Content-Security-Policy runs no inline script and no eval.
"use strict";

// With the script running, a narrow screen folds the menu behind its "Menu" button (the
// stylesheet keys on .js: without the script the menu simply stays open).
document.documentElement.classList.add("js");

// On a narrow screen a table wider than its card scrolls inside it. A keyboard user must be
// able to scroll it too: a scrolling table with nothing focusable in it joins the tab order
// (and leaves it again when the window grows).
const FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";
const markScrolling = () => {
  // Innermost first: a wrapper asks whether something inside it is focusable already, so a
  // table inside it must have dropped the tabindex it no longer needs (a window widened after
  // a narrow load) before the wrapper is looked at, or neither would be reachable.
  for (const table of [...document.querySelectorAll("table, .table-scroll")].reverse()) {
    const scrolls = table.scrollWidth > table.clientWidth + 1;
    if (scrolls && !table.hasAttribute("tabindex") && !table.querySelector(FOCUSABLE)) {
      table.setAttribute("tabindex", "0");
      table.dataset.scrollFocus = "1";
    } else if (!scrolls && table.dataset.scrollFocus) {
      table.removeAttribute("tabindex");
      delete table.dataset.scrollFocus;
    }
  }
};
document.addEventListener("DOMContentLoaded", markScrolling);
document.addEventListener("htmx:afterSettle", markScrolling);
window.addEventListener("resize", markScrolling);

document.addEventListener("click", (event) => {
  const toggle = event.target instanceof Element ? event.target.closest(".menu-toggle") : null;
  if (!toggle) return;
  const header = toggle.closest("header");
  const open = !header.classList.contains("open");
  header.classList.toggle("open", open);
  toggle.setAttribute("aria-expanded", String(open));
});

// Messages replace each other (issue #21: a red error stayed beside a later green "Bought."):
// a new request clears the last answer's message, the error region (#flash) and any
// success line a partial carried (a .flash with role=status); its own answer brings the next.
document.addEventListener("htmx:beforeSend", (event) => {
  const elt = event.detail && event.detail.elt;
  if (elt instanceof Element && /^every /.test(elt.getAttribute("hx-trigger") || "")) return; // a poll says nothing new
  const flash = document.getElementById("flash");
  if (flash) flash.replaceChildren();
  for (const done of document.querySelectorAll("main .flash[role=status]")) done.remove();
});

// A form marked data-reset-on-success empties itself once its request succeeded
// (the Time tab's Start form, so the next timer starts blank).
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.target;
  if (event.detail.successful && form instanceof HTMLFormElement && form.hasAttribute("data-reset-on-success")) {
    form.reset();
  }
});

// Escape in an inline editor (a worklog row being edited) cancels it as its Cancel link does
// (issue #21: Escape left the editor open). The keyboard timesheet handles its own cells.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !(event.target instanceof Element)) return;
  const editor = event.target.closest("tr.editing");
  const cancel = editor ? editor.querySelector("[data-cancel-edit]") : null;
  if (cancel) {
    event.preventDefault();
    cancel.click();
  }
});

// A link marked data-back goes back in history when there is history; otherwise it
// is an ordinary link (to its href).
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a[data-back]") : null;
  if (link && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});

// The keyboard timesheet (Time tab): a grid with one cell per work item and day. One cell
// is in the tab order at a time (a roving tabindex); arrow keys, Home/End and Tab move it.
// Typing starts an edit; Enter or Tab sends the text to the server, which parses it and
// answers with the week redrawn (a refused cell comes back marked, with the reason).
(() => {
  const GRID = "table.sheet";
  let pending = null; // the cell to focus once the grid is redrawn: {row, day}
  let busy = false;
  let sentFrom = null; // the grid a request left from: other swaps (the timer's poll) settle too

  const gridOf = (el) => (el instanceof Element ? el.closest(GRID) : null);
  const rowsOf = (grid) => Array.from(grid.querySelectorAll("tbody tr[data-row]"));
  const cellsOf = (tr) => Array.from(tr.querySelectorAll("td.cell"));
  const at = (grid, r, c) => {
    const tr = rowsOf(grid)[r];
    return tr ? cellsOf(tr)[c] || null : null;
  };
  const where = (cell) => {
    const tr = cell.closest("tr");
    return [rowsOf(cell.closest(GRID)).indexOf(tr), cellsOf(tr).indexOf(cell)];
  };
  const keyOf = (cell) => ({ row: cell.closest("tr").dataset.row, day: cell.dataset.day });

  function focusCell(cell) {
    if (!cell) return;
    cell.closest(GRID).querySelectorAll("td.cell").forEach((c) => c.setAttribute("tabindex", "-1"));
    cell.setAttribute("tabindex", "0");
    cell.focus();
  }

  // The cell a key moves to from `cell`, or null (Tab then leaves the grid as usual).
  function target(cell, key, shift, ctrl) {
    const grid = cell.closest(GRID);
    const rows = rowsOf(grid).length;
    const [r, c] = where(cell);
    const last = cellsOf(cell.closest("tr")).length - 1;
    switch (key) {
      case "ArrowLeft": return at(grid, r, Math.max(0, c - 1));
      case "ArrowRight": return at(grid, r, Math.min(last, c + 1));
      case "ArrowUp": return at(grid, Math.max(0, r - 1), c);
      case "ArrowDown": case "Enter": return at(grid, Math.min(rows - 1, r + 1), c);
      case "Home": return ctrl ? at(grid, 0, 0) : at(grid, r, 0);
      case "End": return ctrl ? at(grid, rows - 1, last) : at(grid, r, last);
      case "Tab":
        if (shift) return c > 0 ? at(grid, r, c - 1) : (r > 0 ? at(grid, r - 1, last) : null);
        return c < last ? at(grid, r, c + 1) : (r < rows - 1 ? at(grid, r + 1, 0) : null);
      default: return null;
    }
  }

  function send(cell, hours, extra) {
    const values = Object.assign(
      { day: cell.dataset.day, work_item: cell.closest("tr").dataset.row, hours: hours }, extra || {});
    busy = true;
    sentFrom = cell.closest(GRID);
    sentFrom.setAttribute("aria-busy", "true");
    htmx.ajax("POST", "/time/cells", { source: cell, target: "#week", swap: "outerHTML", values: values });
  }

  function startEdit(cell, text) {
    if (cell.querySelector("input")) return;
    const input = document.createElement("input");
    input.className = "cell-input";
    // The words come from the page (data-edit-label), in the user's language.
    const hint = cell.closest(GRID).dataset.editLabel || "type a duration";
    input.setAttribute("aria-label", `${cell.getAttribute("aria-label")} — ${hint}`);
    input.value = text === undefined ? cell.dataset.value : text;
    cell.dataset.editing = "true";
    cell.textContent = "";
    cell.appendChild(input);
    input.focus();
    if (text === undefined) input.select();
    else input.setSelectionRange(input.value.length, input.value.length);
  }

  function stopEdit(cell) {
    delete cell.dataset.editing;
    cell.textContent = cell.dataset.value;
  }

  // Send the edit (if it changed anything) and go on to `next` (a cell, or null: stay).
  function commit(cell, next) {
    const input = cell.querySelector("input");
    const text = input ? input.value.trim() : "";
    delete cell.dataset.editing;
    if (text === cell.dataset.value) {
      stopEdit(cell);
      focusCell(next || cell);
      return;
    }
    pending = keyOf(next || cell);
    send(cell, text);
  }

  function clear(cell) {
    const count = Number(cell.dataset.count || "0");
    if (count === 0) return;
    const question = (cell.closest(GRID).dataset.confirmClear || "Delete the {count} worklogs in this cell?")
      .replace("{count}", String(count));
    if (count > 1 && !window.confirm(question)) return;
    pending = keyOf(cell);
    send(cell, "", count > 1 ? { confirmed: "1" } : {});
  }

  document.addEventListener("keydown", (event) => {
    const el = event.target;
    if (!(el instanceof Element)) return;
    const cell = el.closest(`${GRID} td.cell`);
    if (!cell) return;
    if (busy) { event.preventDefault(); return; }
    if (el instanceof HTMLInputElement) { // editing
      if (event.key === "Escape") {
        event.preventDefault();
        stopEdit(cell);
        focusCell(cell);
      } else if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        commit(cell, target(cell, event.key, event.shiftKey, false));
      }
      return;
    }
    const next = target(cell, event.key, event.shiftKey, event.ctrlKey || event.metaKey);
    if (event.key === "Tab") {
      if (next) { event.preventDefault(); focusCell(next); }
      return;
    }
    if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"].includes(event.key)) {
      event.preventDefault();
      focusCell(next);
    } else if (event.key === "Enter" || event.key === "F2") {
      event.preventDefault();
      startEdit(cell);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      clear(cell);
    } else if (event.key === "n" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      openAdd(cell);
    } else if (/^[0-9.,:]$/.test(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      startEdit(cell, event.key);
    }
  });

  // Leaving an edit with the mouse keeps what was typed, as a spreadsheet does.
  document.addEventListener("focusout", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.classList.contains("cell-input")) return;
    const cell = input.closest("td.cell");
    if (cell && cell.dataset.editing && !busy) commit(cell, null);
  });

  document.addEventListener("click", (event) => {
    const el = event.target instanceof Element ? event.target : null;
    if (!el) return;
    const cell = el.closest(`${GRID} td.cell`);
    if (cell && !busy && !cell.dataset.editing) {
      focusCell(cell);
      startEdit(cell);
      return;
    }
    const opener = el.closest("[data-sheet-add]");
    if (opener) { openAdd(null); return; }
    const option = el.closest("#sheet-results [role=option][data-id]");
    if (option) pick(option.dataset.id);
  });

  // "Add a row": a search over work items; the picked item's row is added to the grid.
  let returnTo = null;

  function openAdd(cell) {
    const box = document.getElementById("sheet-add");
    if (!box) return;
    returnTo = cell;
    box.hidden = false;
    const input = box.querySelector("input");
    input.value = "";
    input.focus();
  }

  function closeAdd() {
    const box = document.getElementById("sheet-add");
    if (box) box.hidden = true;
    const grid = document.querySelector(GRID);
    focusCell(returnTo || (grid && grid.querySelector("td.cell[tabindex='0']")));
  }

  function options() {
    return Array.from(document.querySelectorAll("#sheet-results [role=option][data-id]"));
  }

  function choose(list, index) {
    list.forEach((o, i) => o.setAttribute("aria-selected", i === index ? "true" : "false"));
    const input = document.getElementById("sheet-search");
    if (input && list[index]) input.setAttribute("aria-activedescendant", list[index].id);
  }

  function pick(id) {
    const grid = document.querySelector(GRID);
    if (!grid || busy) return;
    const added = grid.dataset.added ? grid.dataset.added.split(",") : [];
    if (!added.includes(id)) added.push(id);
    const query = `week=${grid.dataset.week}${grid.dataset.filters}&add=${added.join(",")}`;
    const first = grid.querySelector("thead") && rowsOf(grid).length ? cellsOf(rowsOf(grid)[0])[0] : null;
    pending = { row: id, day: first ? first.dataset.day : null };
    busy = true;
    sentFrom = grid;
    htmx.ajax("GET", `/time/week?${query}`, { source: grid, target: "#week", swap: "outerHTML", push: `/time?${query}` });
  }

  document.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.id !== "sheet-search") return;
    const list = options();
    const index = list.findIndex((o) => o.getAttribute("aria-selected") === "true");
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.length) choose(list, event.key === "ArrowDown" ? Math.min(list.length - 1, index + 1) : Math.max(0, index - 1));
    } else if (event.key === "Enter") {
      event.preventDefault();
      const chosen = list[Math.max(0, index)];
      if (chosen) pick(chosen.dataset.id);
    } else if (event.key === "Escape") {
      event.preventDefault();
      closeAdd();
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target instanceof Element && event.target.id === "sheet-results") {
      const input = document.getElementById("sheet-search");
      const list = options();
      if (input) input.setAttribute("aria-expanded", list.length ? "true" : "false");
      if (list.length) choose(list, 0);
    }
  });

  // Once the week is redrawn: focus the refused cell (its reason is announced), else the
  // cell the last key moved to.
  document.addEventListener("htmx:afterSettle", () => {
    const grid = document.querySelector(GRID);
    if (!grid || !busy || grid === sentFrom) return;
    busy = false;
    sentFrom = null;
    grid.removeAttribute("aria-busy");
    const refused = grid.querySelector("td.cell.refused");
    let cell = refused;
    if (!cell && pending) {
      const row = Array.from(grid.querySelectorAll("tbody tr[data-row]")).find((tr) => tr.dataset.row === pending.row);
      if (row) cell = cellsOf(row).find((c) => c.dataset.day === pending.day) || cellsOf(row)[0];
    }
    pending = null;
    focusCell(cell);
  });

  // A failed request (the network, not a refusal: those come back as the grid) unblocks keys.
  document.addEventListener("htmx:sendError", () => {
    busy = false;
    if (sentFrom) sentFrom.removeAttribute("aria-busy");
    sentFrom = null;
  });
})();

// A form marked data-confirm-count asks before it is sent, naming how many of its
// checkboxes are ticked ("Approve 3 week(s)?": the approval queue's bulk approve). The
// message is the attribute's value with {count} replaced.
document.addEventListener("htmx:confirm", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm-count")) {
    return;
  }
  event.preventDefault();
  const count = document.querySelectorAll(`input[type=checkbox][form="${form.id}"]:checked`).length;
  const message = form.getAttribute("data-confirm-count").replace("{count}", String(count));
  if (count > 0 && window.confirm(message)) {
    event.detail.issueRequest(true);
  }
});

// A checkbox marked data-select-all="NAME" checks or clears every checkbox named NAME in
// its form (the Times Explorer's "select all on this page", rows added by "More" too).
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-select-all") || !box.form) {
    return;
  }
  const name = box.getAttribute("data-select-all");
  for (const other of box.form.querySelectorAll(`input[type=checkbox][name="${name}"]`)) {
    other.checked = box.checked;
  }
});

// A button marked data-copy="ID" copies the value of the field ID (the reporting feed's URL,
// a token shown once) and says so in the element its aria-describedby names.
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
  if (!button) {
    return;
  }
  const field = document.getElementById(button.getAttribute("data-copy"));
  const status = document.getElementById(button.getAttribute("aria-describedby") || "");
  if (!(field instanceof HTMLInputElement)) {
    return;
  }
  let copied = false;
  try {
    await navigator.clipboard.writeText(field.value);
    copied = true;
  } catch {
    // No clipboard API (a plain-http address that is not localhost): select the text so
    // the user can copy it with their keyboard, and try the older command.
    field.select();
    copied = document.execCommand("copy");
  }
  if (status) {
    // The words come from the button (data-copied, data-copy-fallback), in the user's language.
    status.textContent = copied
      ? button.getAttribute("data-copied") || "Copied."
      : button.getAttribute("data-copy-fallback") || "Selected: press Ctrl+C (⌘C) to copy.";
  }
});
