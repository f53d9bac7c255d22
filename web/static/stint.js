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
    status.textContent = copied ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.";
  }
});
