"""The operations table: each operation's stable id and description, keyed "METHOD /path".

Litestar derives ids from the path (``ApiV1WorklogsCreate``) and handler names repeat
(``create``, ``list``), so each operation's id and description live in the one table below,
keyed like the links (``web/openapi/links.py``). ``document_operations``
(``web/openapi/operations.py``) writes them in; a route missing from the table gets a derived
id meanwhile, and ``undocumented`` names it (and any entry naming no route) for
tests/integration/test_openapi.py, which fails until the table follows. Not a failed app
start: a branch adding routes must not break every test when it is merged.

Nearly all data, one entry per route, so it runs past the house limit of ~300 lines: split
by area it would only scatter the one place a new route's id is written.
"""

from __future__ import annotations

__all__ = ["OPERATIONS"]

#: "METHOD /path" → (operationId, description). The summary stays on the decorator.
OPERATIONS: dict[str, tuple[str, str]] = {
    "GET /health": ("getHealth", "Whether this Stint answers, with its version. Public."),
    "GET /health/live": (
        "getLiveness", "The process is up (no I/O): for a container's liveness probe. Public."),
    "GET /health/ready": (
        "getReadiness", "Whether this process should get traffic: the database answers, its "
        "schema is current and Redis answers when configured; 503 (a problem) otherwise and "
        "while the process drains on shutdown. Public."),
    "GET /api/v1/operator/jobs": (
        "listJobs", "Each background job's last run, its worker, lag and backlog (operators; "
        "what the public /health no longer shows)."),
    "POST /api/v1/signup": (
        "signUp", "Creates a tenant on a trial with its first Administrator (a collection admin). "
        "Sign in afterwards with `signIn`."),
    "POST /api/v1/auth/token": (
        "signIn", "Trades a tenant user's e-mail and password for a short-lived access token (JWT) "
        "and a refresh token. Failed sign-ins are limited per address and per account (429)."),
    "POST /api/v1/auth/refresh": (
        "refreshToken", "Trades a refresh token for a new pair. A refresh token used twice "
        "revokes its whole family (401)."),
    "POST /api/v1/auth/logout": (
        "signOut", "Revokes the refresh token, every token rotated from it and their access tokens."),
    "GET /api/v1/me": ("getMe", "The calling user: e-mail, name, role, licence and tenant."),
    "GET /api/v1/me/access": (
        "getMyAccess", "The access decision for the Time tab (allowed, the reason when not) and the "
        "trial banner."),
    "GET /api/v1/me/second-factor": (
        "getMySecondFactor", "Whether the caller has a second factor and whether the tenant requires one."),
    "POST /api/v1/me/second-factor": (
        "startMySecondFactor", "Starts enrolling a TOTP second factor: answers the secret and its "
        "`otpauth://` URI. It takes effect once confirmed."),
    "POST /api/v1/me/second-factor/confirm": (
        "confirmMySecondFactor", "Confirms enrolment with a current code; answers the one-time "
        "recovery codes (shown once). Wrong codes are limited (429)."),
    "DELETE /api/v1/me/second-factor": (
        "removeMySecondFactor", "Switches the caller's second factor off, proven by a current code "
        "or the password. Refused while the tenant requires one."),
    "DELETE /api/v1/users/{user_id}/second-factor": (
        "resetUserSecondFactor", "Removes a user's second factor (a lost device). Administrators only."),
    "GET /api/v1/settings/security": ("getSecuritySettings", "Whether the tenant requires a second factor."),
    "PUT /api/v1/settings/security": (
        "setSecuritySettings", "Requires a second factor of every user, or stops requiring it. "
        "Administrators only."),
    "GET /api/v1/me/notifications": (
        "getMyNotifications", "Which notification mails the caller gets, per kind (their own choice, "
        "else the tenant's default, else on)."),
    "PUT /api/v1/me/notifications": (
        "setMyNotifications", "Turns notification kinds on or off for the caller; kinds left out keep "
        "their setting."),
    "GET /api/v1/settings/notifications": (
        "getNotificationSettings", "The tenant's default per notification kind, for users who have not "
        "chosen."),
    "PUT /api/v1/settings/notifications": (
        "setNotificationSettings", "Sets the tenant's default per notification kind; a user's own choice "
        "still wins. Administrators only."),
    "GET /api/v1/me/profile": (
        "getMyProfile", "The caller's name, language (en, de), time zone (null: the tenant's), time "
        "format (hm: 1:30, decimal: 1.50) and first day of the week."),
    "PUT /api/v1/me/profile": (
        "setMyProfile", "Changes the fields it names; an unknown locale or time zone is a 422 and "
        "nothing is stored."),
    "GET /api/v1/me/working-hours": (
        "getMyWorkingHours", "The caller's expected hours per weekday and days off (unset: 8 h Monday to "
        "Friday)."),
    "PUT /api/v1/me/working-hours": (
        "setMyWorkingHours", "Replaces the caller's expected hours per weekday and days off."),
    "GET /api/v1/users/{user_id}/working-hours": (
        "getUserWorkingHours", "A user's expected hours per weekday and days off. Administrators only."),
    "PUT /api/v1/users/{user_id}/working-hours": (
        "setUserWorkingHours", "Replaces a user's expected hours per weekday and days off; audited. "
        "Administrators only."),
    "GET /api/v1/me/tokens": (
        "listAccessTokens", "The caller's personal access tokens with their scopes (never the secrets)."),
    "POST /api/v1/me/tokens": (
        "createAccessToken", "Creates a personal access token for scripts (at most 365 days). The "
        "token is answered once; send it as `Authorization: Bearer <token>`. `scopes` limits what it "
        "may be used for (`tracking`, `worklogs:read`, `worklogs:write`, `reporting:read`, "
        "`users:read`, `admin`); without it the token may do all its user's role allows. A personal "
        "access token cannot create another."),
    "DELETE /api/v1/me/tokens/{token_id}": (
        "revokeAccessToken", "Revokes one of the caller's personal access tokens at once."),
    "GET /api/v1/users": ("listUsers", "The tenant's users with their roles and licences, a page at a time."),
    "POST /api/v1/users": (
        "createUser", "Adds a user to the tenant. A licence beyond the subscription's seats is "
        "refused (409 `seat_limit`)."),
    "PATCH /api/v1/users/{user_id}": (
        "changeUser", "Changes a user's role, licence or flags. The last Administrator cannot be "
        "demoted (409)."),
    "PUT /api/v1/settings/default-role": ("setDefaultRole", "The role new users get."),
    "GET /api/v1/audit": (
        "listAuditEvents", "The tenant's security history (sign-ins, role changes, tokens), newest "
        "first, a page at a time. Administrators only."),
    "GET /api/v1/export": (
        "exportTenantData", "Every record of the tenant as one ZIP archive: JSON lines per table, the "
        "worklogs as CSV, and a manifest with each member's SHA-256, signed by this installation "
        "(`stint tenant import` checks it). Administrators; collection admins also after the "
        "subscription has expired. Audited."),
    "GET /api/v1/operator/tenants/{slug}/export": (
        "exportTenantAsOperator", "A tenant's archive, as `GET /api/v1/export` answers it to its "
        "Administrators; audited in the tenant's trail as the operator's."),
    "POST /api/v1/operator/tenants/{slug}/purge": (
        "purgeTenant", "Deletes an expired cloud tenant's data now, as the retention job would: only "
        "once its retention period is over and its collection admins have had the last warning "
        "(409 with `reason` otherwise). `confirm` must repeat the slug. Invoices and the audit "
        "trail are kept."),
    "GET /api/v1/subscription": (
        "getSubscription", "Plan, interval, seats, status, period, trial end, licensed users and credit."),
    "POST /api/v1/subscription/purchase": (
        "purchaseSubscription", "Buy Now: starts a paid subscription and answers it with its first invoice."),
    "POST /api/v1/subscription/quote": (
        "quoteSubscriptionChange", "Previews a change of seats, plan or interval: the prorated "
        "lines and total, exact to the minor unit. Changes nothing."),
    "POST /api/v1/subscription/change": (
        "changeSubscription", "Changes seats, plan or interval now: answers the subscription, the "
        "prorated lines and the invoice."),
    "POST /api/v1/subscription/cancel": ("cancelSubscription", "Stops renewal at the end of the period."),
    "POST /api/v1/subscription/resume": ("resumeSubscription", "Undoes a cancel before the period ends."),
    "POST /api/v1/subscription/credit/payout": (
        "payOutCredit", "Always refused (409 `payout_refused`): credit is kept for later invoices, "
        "never paid out."),
    "GET /api/v1/invoices": ("listInvoices", "The tenant's invoices, newest first, a page at a time."),
    "GET /api/v1/invoices/{invoice_id}/pdf": ("getInvoicePdf", "One invoice as a PDF document."),
    "POST /api/v1/subscription/checkout": (
        "startCheckout", "Starts Buy Now's hosted checkout, which collects a payment method; "
        "answers the URL to send the user to."),
    "GET /api/v1/subscription/portal": (
        "getBillingPortal", "A link to the payment provider's portal, where cards are updated."),
    "POST /api/v1/subscription/activate": (
        "activateOnline", "Activates an on-premises tenant online with its subscription id."),
    "POST /api/v1/subscription/activation/refresh": (
        "refreshActivation", "Asks the licence service for the current entitlement now."),
    "GET /api/v1/subscription/server-id": (
        "getServerId", "This server's id, for support to issue an offline activation file."),
    "GET /api/v1/subscription/activation": (
        "getActivation", "How this tenant is activated (online, file, none), with warnings."),
    "POST /api/v1/subscription/activation-file": (
        "uploadActivationFile", "Installs a signed offline activation file (the raw body)."),
    "POST /api/v1/licence-service/entitlements": (
        "getEntitlement", "For on-premises servers: their entitlement for a subscription id. "
        "Unknown ids are limited per address (429)."),
    "POST /api/v1/tracking/start": (
        "startTimer", "Starts the timer on a work item (stopping a running one into a worklog)."),
    "POST /api/v1/tracking/stop": ("stopTimer", "Stops the timer; answers the worklog it made."),
    "GET /api/v1/tracking/current": (
        "getCurrentTimer", "The running timer, if any, and when the next activity check is due."),
    "POST /api/v1/tracking/activity-check": (
        "confirmActivity", "Confirms 'still working', or defers the check (an hour, tomorrow, next Monday)."),
    "GET /api/v1/tracking/events": (
        "streamTimerEvents", "Server-sent events (`text/event-stream`): the timer now and on every "
        "change, from any device."),
    "GET /api/v1/tracking/preferences": ("getTrackingPreferences", "Your time zone and stop mails."),
    "PUT /api/v1/tracking/preferences": ("setTrackingPreferences", "Sets your time zone and stop mails."),
    "GET /api/v1/worklogs": (
        "listWorklogs", "Worklogs, your own unless `user` is given (with the right to view others'), "
        "oldest first, a page at a time."),
    "GET /api/v1/worklogs/all": (
        "listTeamWorklogs", "Everyone's worklogs (Product, Budget, Administrators and approval "
        "managers), filtered by users, dates, work items, iterations, budgets, activity types, "
        "billable, approval state and created/edited dates, a page at a time; with `group_by` "
        "(one or two levels) the totals per group instead (tracked, billable, amount)."),
    "POST /api/v1/worklogs/batch": (
        "createWorklogBatch", "Logs up to 5,000 worklogs at once, all or nothing: one bad line, "
        "locked week or foreign user and nothing is stored; the answer names every offending "
        "line with its reason. Audited once with the count."),
    "PATCH /api/v1/worklogs/batch": (
        "changeWorklogBatch", "Sets billable, the billable length, the activity type, the budget, the "
        "work item or the comment on up to 5,000 worklogs, all or nothing: an unknown id, one not "
        "yours to change, one in a locked week or a bad value and nothing changes; the answer names "
        "every offending id. Audited once with the count."),
    "GET /api/v1/import-jobs/{job_id}": (
        "getWorklogImport", "A background import's state (queued, checking, storing, done, failed), "
        "rows done of the total, worklogs imported and, when refused, every bad line. Your own only."),
    "GET /api/v1/explorer/views": ("listExplorerViews", "Your saved Times Explorer views."),
    "POST /api/v1/explorer/views": (
        "saveExplorerView", "Saves the Times Explorer's filters, columns and grouping under a name "
        "of your own (409 when you have used it)."),
    "DELETE /api/v1/explorer/views/{view_id}": ("deleteExplorerView", "Deletes one of your saved views."),
    "POST /api/v1/worklogs/batch-delete": (
        "deleteWorklogBatch", "Deletes the worklogs named, all or nothing: an unknown or foreign "
        "id, or one in a locked week, and nothing is deleted; the answer names every offending id."),
    "GET /api/v1/worklogs/{worklog_id}/history": (
        "getWorklogHistory", "Every add, edit and delete of a worklog (a deleted one's too), oldest "
        "first, with who, when, from where and the fields' values before and after."),
    "DELETE /api/v1/users/{user_id}": (
        "deactivateUser", "Deactivates a user: their worklogs stay, their seat is freed and every token "
        "of theirs is refused at once. Not yourself, not the last Administrator (409)."),
    "POST /api/v1/users/roles": (
        "setUserRoles", "Sets the role and/or licence of many users, all or none; licensing checks the "
        "seats for the whole batch (409 seat_limit says how many are needed and free)."),
    "GET /api/v1/settings/editing": (
        "getEditingRule", "Who may edit other people's time: administrators, approval_managers or product."),
    "PUT /api/v1/settings/editing": (
        "setEditingRule", "Sets who may edit other people's time (the default: administrators)."),
    "POST /api/v1/worklogs": (
        "createWorklog", "Logs time by hand. A week that is approved or closed is locked (423); a "
        "plan's worklog limit asks for payment (402). Safe to retry with an Idempotency-Key."),
    "PATCH /api/v1/worklogs/{worklog_id}": (
        "changeWorklog", "Changes a worklog's time, length, work item, comment or activity type."),
    "DELETE /api/v1/worklogs/{worklog_id}": ("deleteWorklog", "Deletes a worklog in an open week."),
    "GET /api/v1/worklogs/export": ("exportWorklogs", "Worklogs as CSV or Excel (`format=csv|xlsx`)."),
    "POST /api/v1/worklogs/import": (
        "importWorklogs", "Imports worklogs from CSV or Excel, all or nothing: a 422 names each bad "
        "line and stores nothing."),
    "GET /api/v1/timesheet": (
        "getTimesheet", "The week grid (`week=YYYY-Www`) or the monthly calendar (`month=YYYY-MM`) "
        "with totals."),
    "POST /api/v1/weeks/{week}/submit": ("submitWeek", "Submits your week for approval."),
    "POST /api/v1/weeks/{week}/approve": ("approveWeek", "Approves a submitted week, which locks it."),
    "POST /api/v1/weeks/{week}/reject": (
        "rejectWeek", "Sends a submitted (or approved) week back to its owner with a required note."),
    "POST /api/v1/weeks/{week}/close": ("closeWeek", "Closes a week, which locks it."),
    "POST /api/v1/weeks/{week}/reopen": ("reopenWeek", "Reopens an approved or closed week."),
    "DELETE /api/v1/weeks/{week}/submission": (
        "revokeWeekSubmission", "The owner takes back a submission nobody has decided yet."),
    "GET /api/v1/approvals": (
        "listApprovals", "The weeks you may decide (`state`, `week`, `user`), with their totals."),
    "GET /api/v1/users/{user_id}/approvers": ("getUserApprovers", "The users who decide this user's weeks."),
    "PUT /api/v1/users/{user_id}/approvers": ("setUserApprovers", "Replaces the user's approvers."),
    "GET /api/v1/settings/approval": (
        "getApprovalSettings", "The approval start date and the automatic lock after a week ends."),
    "PUT /api/v1/settings/approval": (
        "setApprovalSettings", "Changes the approval start date and the automatic lock (audited)."),
    "GET /api/v1/settings/tracking": ("getTrackingSettings", "The tenant's tracking rules and lock date."),
    "PUT /api/v1/settings/tracking": ("setTrackingSettings", "Changes the tracking rules and the lock date."),
    "GET /api/v1/settings/devops": (
        "getDevOpsSettings", "The tenant's work-item connector (never the access token)."),
    "PUT /api/v1/settings/devops": (
        "setDevOpsSettings", "Chooses the work-item connector: standalone or Azure DevOps."),
    "GET /api/v1/work-items/sync": ("getWorkItemSync", "Where the Azure DevOps work-item sync got to."),
    "POST /api/v1/work-items/sync": ("syncWorkItems", "Queues a sync of the work items from Azure DevOps."),
    "GET /api/v1/settings/work-item-automation": (
        "getWorkItemAutomation", "How time tracking writes Completed and Remaining Work back."),
    "PUT /api/v1/settings/work-item-automation": (
        "setWorkItemAutomation", "Changes how time tracking writes Completed and Remaining Work back."),
    "GET /api/v1/work-items": (
        "listWorkItems", "The tenant's work items in id order, filtered by search, state, type, "
        "iteration, assignee or parent, a page at a time."),
    "POST /api/v1/work-items": (
        "createWorkItem", "Creates a work item (standalone mode; 409 `managed_by_devops` otherwise)."),
    "GET /api/v1/work-items/{item_id}": (
        "getWorkItem", "One work item with the time tracked on it and on its descendants."),
    "PATCH /api/v1/work-items/{item_id}": (
        "changeWorkItem", "Changes a work item (standalone mode; 409 `managed_by_devops` otherwise)."),
    "GET /api/v1/iterations": (
        "listIterations", "The tenant's iterations by start date (undated last), a page at a time."),
    "POST /api/v1/iterations": ("createIteration", "Creates an iteration (standalone mode)."),
    "GET /api/v1/iterations/{iteration_id}/burndown": (
        "getIterationBurndown", "An iteration's burndown: per day, Remaining and Completed Work summed "
        "over its items (the last value known that day) and the ideal line; 422 for an undated iteration."),
    "GET /api/v1/activity-types": (
        "listActivityTypes", "The tenant's activity types (active ones; Administrators may ask for "
        "inactive ones too)."),
    "POST /api/v1/activity-types": ("createActivityType", "Adds an activity type with its colour and rate."),
    "PATCH /api/v1/activity-types/{activity_type_id}": (
        "changeActivityType", "Renames, recolours, reprices or (de)activates an activity type."),
    "GET /api/v1/user-rates": ("listUserRates", "Every user's hourly rate."),
    "PUT /api/v1/user-rates/{user_id}": ("setUserRate", "Sets or removes a user's hourly rate."),
    "GET /api/v1/budgets": (
        "listBudgets", "Budgets by name, a page at a time (the Team role sees only those its own "
        "worklogs hit)."),
    "POST /api/v1/budgets": ("createBudget", "Adds a budget: an amount or hours over a period."),
    "GET /api/v1/budgets/{budget_id}": ("getBudget", "One budget with its assignments."),
    "PATCH /api/v1/budgets/{budget_id}": ("changeBudget", "Changes a budget; `open: false` closes it."),
    "POST /api/v1/budgets/{budget_id}/assign": (
        "assignBudget", "Assigns iterations, work items and single worklogs to the budget."),
    "POST /api/v1/budgets/{budget_id}/unassign": (
        "unassignBudget", "Removes this budget's direct assignments."),
    "GET /api/v1/budgets/{budget_id}/usage": (
        "getBudgetUsage", "Usage over a period (the Team role: its own time only)."),
    "GET /api/v1/budgets/{budget_id}/statement": (
        "getBudgetStatement", "The monthly chargeback statement as JSON, CSV or Excel."),
    "POST /api/v1/operator/auth/token": (
        "operatorSignIn", "Trades an operator's credentials for an operator access token."),
    "GET /api/v1/operator/me/second-factor": (
        "getOperatorSecondFactor", "Whether the operator has a second factor."),
    "POST /api/v1/operator/me/second-factor": (
        "startOperatorSecondFactor", "Starts enrolling the operator's TOTP second factor."),
    "POST /api/v1/operator/me/second-factor/confirm": (
        "confirmOperatorSecondFactor", "Confirms the operator's second factor; answers recovery codes."),
    "GET /api/v1/operator/tenants": ("listTenants", "Every tenant with its subscription, a page at a time."),
    "POST /api/v1/operator/tenants/{slug}/trial": ("changeTrial", "Extends or ends a tenant's trial."),
    "POST /api/v1/operator/tenants/{slug}/uninstall": (
        "uninstallTenant", "Uninstalls a tenant; its data is kept for reinstalling."),
    "POST /api/v1/operator/tenants/{slug}/reinstall": ("reinstallTenant", "Reinstalls a tenant, unchanged."),
    "POST /api/v1/operator/tenants/{slug}/invoices/{invoice_id}/paid": (
        "markInvoicePaid", "Marks a tenant's invoice paid (money received outside the provider)."),
    "GET /api/v1/operator/plans": ("listPlans", "The plans catalogue with prices in minor units."),
    "PUT /api/v1/operator/plans": ("putPlans", "Adds or replaces plans in the catalogue."),
    "POST /api/v1/operator/activation-files": (
        "issueActivationFile", "Issues a signed offline activation file for a server id."),
    "POST /webhooks/stripe": (
        "receiveStripeEvent", "Stripe's events, verified by their signature header (no bearer token)."),
    "GET /api/odata/v1": (
        "getReportingService", "The Reporting API's OData v4 service document: its entity sets. "
        "Answers and errors are OData's (`OData-Version: 4.0`; errors `{error: {code, message}}`)."),
    "GET /api/odata/v1/$metadata": (
        "getReportingMetadata", "The CSDL (XML, OData 4.0) of the entity sets: types, keys, navigation "
        "properties and the Aggregation vocabulary's ApplySupported."),
    "GET /api/odata/v1/{entity_set}": (
        "queryReportingSet", "Rows of an entity set by OData's options ($filter, $select, $orderby, $top, "
        "$skip, $count, $expand, $apply); server-driven paging with `@odata.nextLink` "
        "(`Prefer: odata.maxpagesize=N`). See docs/reporting.md."),
    "GET /api/odata/v1/{entity_set}({key})": (
        "getReportingEntity", "One entity of a set by its key (`workItems(42)`, `users('…')`); $select "
        "and $expand apply."),
    "POST /api/odata/v1/{entity_set}/$query": (
        "postReportingQuery", "As `queryReportingSet`, with the options in the body (text/plain, a query "
        "string) for queries too long for a URL."),
    "GET /api/v1/me/apps": (
        "listMyApps", "The OAuth apps (grants) and personal access tokens that can act for the caller: "
        "name, scopes, created, last used, from where."),
    "DELETE /api/v1/me/apps/{app_id}": (
        "revokeMyApp", "Revokes one of the caller's app grants (every token of it) or personal access "
        "tokens; their access tokens are refused on their next request."),
    "POST /api/v1/me/apps/revoke-all": (
        "unpairAllApps", "\"Unpair all apps\": every app grant of the caller is revoked, in every process "
        "on the next request (personal access tokens are kept)."),
    "GET /api/v1/apps": ("listTenantApps", "The third-party apps the tenant's admins registered."),
    "POST /api/v1/apps": (
        "registerTenantApp", "Registers a third-party app for this tenant's users: public (PKCE only) or "
        "confidential (its secret is in this answer once). Redirect URIs match exactly."),
    "PATCH /api/v1/apps/{client_id}": (
        "setTenantAppDisabled", "Disables an app for everybody (every grant to it is revoked) or enables "
        "it again."),
    "POST /oauth/token": (
        "oauthToken", "OAuth 2.0 token endpoint (RFC 6749 §3.2), form-encoded: `authorization_code` "
        "(with the PKCE `code_verifier`), `refresh_token` (rotated; a reused one revokes the grant) and "
        "`urn:ietf:params:oauth:grant-type:device_code` (RFC 8628). Clients authenticate as OAuth "
        "says (public: `client_id`; confidential: HTTP Basic or `client_secret`); errors are OAuth's "
        "JSON (`invalid_grant`, `authorization_pending`, `slow_down` …). docs/apps.md."),
    "POST /oauth/device_authorization": (
        "oauthDeviceAuthorization", "Starts a device authorization (RFC 8628 §3.1): a `device_code` "
        "to poll the token endpoint with and a `user_code` the person types on `/device`."),
    "POST /oauth/revoke": (
        "oauthRevoke", "Revokes an app's refresh or access token (RFC 7009): the whole grant ends."),
    "GET /.well-known/oauth-authorization-server": (
        "oauthServerMetadata", "The authorization server's metadata (RFC 8414): endpoints, scopes, "
        "grant types, S256."),
}
