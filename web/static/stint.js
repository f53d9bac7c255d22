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
