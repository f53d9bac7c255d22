"""Problem answers: which RFC 9457 problems each operation can answer, and how they read.

Most statuses follow from how a route is built (authentication, the access guard, a rate
limit, a path parameter, a body: ``problem_statuses``); the rest come from an operation's own
rules (``EXTRA_STATUSES``). ``add_problems`` writes them into an operation; the descriptions
and one example problem per status are shared with the OData answers (``odata.py``) and the
examples (``examples.py``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXTRA_STATUSES", "PROBLEM_DESCRIPTIONS", "add_problems", "problem_example", "problem_statuses"]

#: Statuses an operation answers beyond those its route shape implies (see ``problem_statuses``):
#: domain conflicts (409) and locked weeks (423) come from the operation's own rules.
EXTRA_STATUSES: dict[str, tuple[str, ...]] = {
    "POST /api/v1/worklogs/batch": ("409", "423"),
    "POST /api/v1/worklogs/batch-delete": ("423",),
    "PATCH /api/v1/worklogs/batch": ("409", "423"),
    "POST /api/v1/explorer/views": ("409",),
    "POST /api/v1/signup": ("409",),
    "POST /api/v1/operator/tenants/{slug}/purge": ("409",),
    "POST /api/v1/users": ("409",),
    "PATCH /api/v1/users/{user_id}": ("409",),
    "DELETE /api/v1/users/{user_id}": ("409",),
    "POST /api/v1/users/roles": ("409",),
    "POST /api/v1/subscription/purchase": ("409",),
    "POST /api/v1/subscription/change": ("409",),
    "POST /api/v1/subscription/cancel": ("409",),
    "POST /api/v1/subscription/resume": ("409",),
    "POST /api/v1/subscription/credit/payout": ("409",),
    "DELETE /api/v1/me/second-factor": ("409",),
    "POST /api/v1/me/second-factor": ("409",),
    "POST /api/v1/me/second-factor/confirm": ("429",),
    "POST /api/v1/operator/me/second-factor/confirm": ("429",),
    "POST /api/v1/tracking/start": ("423",),
    "POST /api/v1/tracking/stop": ("423",),
    "POST /api/v1/worklogs": ("402", "409", "423"),
    "PATCH /api/v1/worklogs/{worklog_id}": ("409", "423"),
    "DELETE /api/v1/worklogs/{worklog_id}": ("423",),
    "POST /api/v1/worklogs/import": ("423",),
    "POST /api/v1/weeks/{week}/submit": ("409", "423"),
    "POST /api/v1/weeks/{week}/approve": ("409", "423"),
    "POST /api/v1/weeks/{week}/reject": ("409",),
    "POST /api/v1/weeks/{week}/close": ("409", "423"),
    "POST /api/v1/weeks/{week}/reopen": ("409",),
    "DELETE /api/v1/weeks/{week}/submission": ("409",),
    "POST /api/v1/work-items": ("409",),
    "PATCH /api/v1/work-items/{item_id}": ("409",),
    "POST /api/v1/iterations": ("409",),
    "POST /api/v1/activity-types": ("409",),
    "PATCH /api/v1/activity-types/{activity_type_id}": ("409",),
    "POST /api/v1/budgets": ("409",),
    "PATCH /api/v1/budgets/{budget_id}": ("409",),
    "POST /api/v1/budgets/{budget_id}/assign": ("409",),
    "POST /api/v1/work-items/sync": ("409",),
    "POST /api/v1/operator/tenants/{slug}/trial": ("409",),
    "POST /api/v1/operator/tenants/{slug}/uninstall": ("409",),
    "POST /api/v1/operator/tenants/{slug}/reinstall": ("409",),
    "POST /api/v1/operator/tenants/{slug}/invoices/{invoice_id}/paid": ("409",),
    # An event whose signature, timestamp or shape is refused; 404 where webhooks are not set up.
    "POST /webhooks/stripe": ("400", "404"),
}

PROBLEM_DESCRIPTIONS = {
    "400": "The body could not be read (broken JSON, a bad form).",
    "401": "No valid token: missing, expired or revoked (`invalid_token`, `token_revoked`).",
    "402": "Payment required: the trial or subscription ended, or a plan limit was reached.",
    "403": "Forbidden: the role lacks the permission, no seat, a second factor is required, or the "
           "personal access token lacks the route's scope (`insufficient_scope`).",
    "404": "Not found in this tenant (other tenants' records look exactly the same).",
    "409": "Conflict with the current state (the `code` names which).",
    "422": "Invalid input; `errors[]` names the fields.",
    "423": "Locked: the week is approved or closed, or before the lock date.",
    "429": "Too many requests: wait `Retry-After` seconds.",
}

#: One example problem per status, as ``web/problems.py`` answers them.
_PROBLEM_EXAMPLES = {
    "400": ("invalid_body", "the request body is not valid JSON"),
    "401": ("invalid_token", "send an access token: Authorization: Bearer <token>"),
    "402": ("trial_expired", "The trial has ended: buy a subscription to go on tracking time."),
    "403": ("not_permitted", "Your role may not do this."),
    "404": ("not_found", "Nothing is here."),
    "409": ("conflict", "This conflicts with the current state."),
    "422": ("validation_error", "invalid value for length_s: Expected `int >= 1`"),
    "423": ("week_locked", "The week 2026-W02 is approved and locked."),
    "429": ("rate_limited", "Too many failed sign-ins for this account: try again later."),
}


def problem_statuses(
    key: str, handler: Any, secured: bool, has_path_params: bool, has_body: bool
) -> list[str]:
    """The problem statuses an operation can answer, from how its route is built."""
    from web.access import ACCESS_OPT
    from web.security import limit_per_client, limit_signups_per_client

    found: set[str] = set(EXTRA_STATUSES.get(key, ()))
    guards = handler.resolve_guards()
    if secured:
        found |= {"401"}
    if any(getattr(g, ACCESS_OPT, None) is not None for g in guards):
        # The access decision (web/access.py): 402 when payment is due, 403 otherwise.
        found |= {"402", "403"}
    elif secured:
        found |= {"403"}  # a required second factor not set up, an uninstalled tenant
    if any(g in (limit_per_client, limit_signups_per_client) for g in guards):
        found.add("429")
    if has_path_params:
        found.add("404")
    if has_body:
        found.add("400")
    return sorted(found)


def add_problems(operation: Any, statuses: list[str]) -> None:
    from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Reference

    from web.problems import PROBLEM_JSON, PROBLEM_REF

    responses = operation.responses or {}
    for status in statuses:
        if status not in responses:
            responses[status] = OpenAPIResponse(
                description=PROBLEM_DESCRIPTIONS[status],
                content={PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref=PROBLEM_REF))},
            )
    operation.responses = dict(sorted(responses.items()))


def problem_example(status: str) -> dict[str, Any]:
    from web.problems import problem_title

    code, detail = _PROBLEM_EXAMPLES.get(status, ("error", "Something is wrong."))
    return {
        "type": f"https://stint.dev/problems/{code.replace('_', '-')}",
        "title": problem_title(int(status)), "status": int(status), "detail": detail, "code": code,
    }

