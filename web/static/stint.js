// What the pages do in the browser beyond htmx. It lives here, not inline in the
// templates: the Content-Security-Policy runs no inline script and no eval.
"use strict";

// A form marked data-reset-on-success empties itself once its request succeeded
// (the Time tab's Start form, so the next timer starts blank).
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.target;
  if (event.detail.successful && form instanceof HTMLFormElement && form.hasAttribute("data-reset-on-success")) {
    form.reset();
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
