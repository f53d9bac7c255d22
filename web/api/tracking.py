"""``/api/v1/tracking``: the timer on the server, its activity checks, and a live feed.

``GET /tracking/events`` is a server-sent event stream: one ``timer`` event with the
current state at once, then one whenever it changes (from any client, or a job),
so every open client shows the same timer within a second. Changes arrive through the
change feed (``core.tracking.feed``; Redis pub/sub across processes), not by polling. Each
event's id is a digest of the state it carries: a client reconnecting with ``Last-Event-ID``
gets the current state first, unless that is the very state it names (``stint-tracker
watch`` after a restart is not sent what it shows again; no memory of clients on the server).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from core.identity.scopes import Scope
from core.licensing.access import Action
from core.services.planning import work_item_titles
from core.services.tracking import (
    answer_activity_check,
    current_timer,
    start_tracking,
    stop_tracking,
)
from core.tracking import Timer, TrackingRules, due_stop, zone
from core.tracking.feed import FellBehind, Resync
from core.tracking.ports import TrackingPreference

from ..access import requires
from ..auth import TenantRequest
from ..deps import StintDep
from ..lifecycle import draining
from ..schemas import Strict
from .worklog_answers import WorkItemRef, WorklogOut, item_text, titled

__all__ = ["TrackingController"]

#: How long an event stream with a running timer waits for its feed before it looks at the
#: clock (a check falling due, a rule's stop) and at whether the process is draining. No
#: database query on a wait; a stream without a timer waits for the feed or a keep-alive.
WAIT_SECONDS = 1.0
#: A stream trusts a change's carried timer unless another change of its user came this
#: recently (seconds): then it reads the timer, as two publishers may race.
BURST_SECONDS = 0.5
#: Quiet streams send an SSE comment this often, so proxies do not close them as idle.
KEEP_ALIVE_SECONDS = 25.0
#: A stream ends after this long (within a keep-alive) and its client reconnects, which
#: authenticates it again: a token revoked meanwhile (an app unpaired, a user deactivated,
#: a sign-out) stops receiving the timer then, without a query per open stream.
STREAM_SECONDS = 15 * 60.0


def event_id(state: bytes) -> str:
    """An event's id names the state it carries, alike in every process. A client that
    reconnects with ``Last-Event-ID`` gets the current state first unless it names that
    state: the simplest resume that misses nothing."""
    return hashlib.blake2b(state, digest_size=8).hexdigest()


class TimerOut(msgspec.Struct):
    running: bool
    started_at: datetime | None = None
    work_item: str | None = None
    comment: str | None = None
    next_activity_check_at: datetime | None = None
    check_due: bool = False
    stopped: WorklogOut | None = None
    stop_reason: str | None = None
    #: The work item's title, shown next to its id (None: no item).
    work_item_title: str | None = None
    activity_type_id: str | None = None
    activity_type: str | None = None


@dataclass
class EventStream(Operation):
    """The stream's OpenAPI operation: its 200 is ``text/event-stream``, not the JSON Litestar
    assumes for a handler it cannot see the media type of."""

    def __post_init__(self) -> None:
        self.responses = {
            **(self.responses or {}),
            "200": OpenAPIResponse(
                description=(
                    "Server-sent events, each `event: timer` with `data:` the timer as "
                    "GET /api/v1/tracking/current answers it (one event unless the client "
                    "accepts text/event-stream)"
                ),
                content={"text/event-stream": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
            ),
        }


class StartIn(Strict):
    #: An existing work item's id, as a JSON integer or a string of digits.
    work_item: WorkItemRef | None = None
    comment: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    #: An active entry of GET /api/v1/activity-types, or its name (``activity_type``).
    activity_type_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    activity_type: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class CheckIn(Strict):
    defer: Literal["one_hour", "tomorrow", "next_monday"] | None = None


class StopOut(WorklogOut):
    stop_reason: str = "user"


class PreferenceIO(Strict):
    time_zone: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    mail_on_system_stop: bool = False


def timer_out(
    timer: Timer | None, now: datetime, rules: TrackingRules | None = None,
    titles: Mapping[str, str] | None = None,
) -> TimerOut:
    if timer is None:
        return TimerOut(running=False)
    return TimerOut(
        work_item_title=(titles or {}).get(timer.work_item or ""),
        running=True,
        started_at=timer.started_at,
        work_item=timer.work_item,
        comment=timer.comment,
        next_activity_check_at=timer.next_activity_check_at,
        check_due=now >= timer.next_activity_check_at,
        activity_type_id=timer.activity_type_id,
        activity_type=timer.activity_type,
    )


class TrackingController(Controller):
    path = "/tracking"
    tags = ("tracking",)

    @post("/start", summary="Start the timer (stops a running one)",
          guards=[requires(Action.TRACK_TIME, Scope.TRACKING)])
    async def start(
        self, request: TenantRequest, stint: StintDep, data: JSONBody[StartIn | None] = None
    ) -> TimerOut:
        principal = request.user
        body = data or StartIn()
        timer, stopped = await start_tracking(
            stint.uow, stint.clock, tenant=principal.tenant, user=principal.user,
            work_item=item_text(body.work_item), comment=body.comment,
            activity_type_id=body.activity_type_id, activity_type=body.activity_type,
        )
        titles = await work_item_titles(
            stint.uow, tenant=principal.tenant,
            names=[timer.work_item, stopped.worklog.work_item if stopped and stopped.worklog else None],
        )
        out = timer_out(timer, stint.clock.now(), titles=titles)
        if stopped is not None:
            out.stop_reason = stopped.reason.value
            if stopped.worklog is not None:
                [out.stopped] = await titled(stint, principal.tenant, [stopped.worklog])
        return out

    @post("/stop", summary="Stop the timer; answers the worklog it made", status_code=200,
          guards=[requires(Action.TRACK_TIME, Scope.TRACKING)])
    async def stop(self, request: TenantRequest, stint: StintDep) -> Response[Any]:
        principal = request.user
        stopped = await stop_tracking(stint.uow, stint.clock, tenant=principal.tenant, user=principal.user)
        if stopped.worklog is None:
            return Response(None, status_code=204)  # stopped within the second it started
        [out] = await titled(stint, principal.tenant, [stopped.worklog])
        return Response(StopOut(**msgspec.structs.asdict(out), stop_reason=stopped.reason.value))

    @get("/current", summary="The running timer", guards=[requires(Action.TRACK_TIME, Scope.TRACKING)])
    async def current(self, request: TenantRequest, stint: StintDep) -> TimerOut:
        principal = request.user
        timer, rules = await current_timer(
            stint.uow, stint.clock, tenant=principal.tenant, user=principal.user
        )
        item = timer.work_item if timer else None
        titles = await work_item_titles(stint.uow, tenant=principal.tenant, names=[item])
        return timer_out(timer, stint.clock.now(), rules, titles)

    @post("/activity-check", summary="Confirm 'still working', or defer the check", status_code=200,
          guards=[requires(Action.TRACK_TIME, Scope.TRACKING)])
    async def activity_check(
        self, request: TenantRequest, stint: StintDep, data: JSONBody[CheckIn | None] = None
    ) -> TimerOut:
        principal = request.user
        timer = await answer_activity_check(
            stint.uow, stint.clock, tenant=principal.tenant, user=principal.user,
            defer=(data or CheckIn()).defer,
        )
        item = timer.work_item if timer else None
        titles = await work_item_titles(stint.uow, tenant=principal.tenant, names=[item])
        return timer_out(timer, stint.clock.now(), titles=titles)

    @get("/preferences", summary="Your tracking preferences",
         guards=[requires(Action.TRACK_TIME, Scope.TRACKING)])
    async def preferences(self, request: TenantRequest, stint: StintDep) -> PreferenceIO:
        principal = request.user
        async with stint.uow() as work:
            pref = await work.tenant(principal.tenant.id).tracking().preference(principal.user.id)
        return PreferenceIO(time_zone=pref.time_zone, mail_on_system_stop=pref.mail_on_system_stop)

    @put("/preferences", summary="Set your time zone and stop mails",
         guards=[requires(Action.TRACK_TIME, Scope.TRACKING)])
    async def set_preferences(
        self, request: TenantRequest, data: JSONBody[PreferenceIO], stint: StintDep
    ) -> PreferenceIO:
        principal = request.user
        if data.time_zone is not None:
            zone(data.time_zone)
        async with stint.uow(write=True) as work:
            await work.tenant(principal.tenant.id).tracking().save_preference(
                principal.user.id, TrackingPreference(data.time_zone, data.mail_on_system_stop),
                stint.clock.now(),
            )
            await work.commit()
        return data

    @get("/events", summary="Server-sent events: the timer now and on every change",
         guards=[requires(Action.TRACK_TIME, Scope.TRACKING)], operation_class=EventStream)
    async def events(
        self, request: TenantRequest, stint: StintDep,
        limit: Annotated[int | None, QueryParameter(ge=1, le=1000)] = None,
    ) -> ServerSentEvent:
        """Streams while the client accepts ``text/event-stream`` (as EventSource does);
        any other client gets the current state once. ``limit`` closes after that many events."""
        principal = request.user
        resume = request.headers.get("last-event-id")
        if "text/event-stream" not in request.headers.get("accept", ""):
            limit, resume = 1, None

        async def feed() -> AsyncIterator[ServerSentEventMessage]:
            last: bytes | None = None
            shown = resume  # the state a reconnecting client names: not sent to it again
            sent = 0
            titles: dict[str, str] = {}
            quiet = 0.0
            # Subscribe first, then read: a change committed in between is either in the read
            # or delivered by the feed. After the read, the database is asked again only when
            # the feed says this user's timer changed without saying how, in a burst, or when a
            # rule's stop falls due — never on a schedule and not per change: a change carries
            # the timer as committed. Queries do not grow with open streams.
            ends = time.monotonic() + STREAM_SECONDS
            async with stint.feed.subscribe(principal.tenant.id, principal.user.id) as changes:
                read = True
                heard = -BURST_SECONDS  # when the last timer change was heard (monotonic)
                looked = -WAIT_SECONDS  # when a rule's due stop last made it read (monotonic)
                timer: Timer | None = None
                rules: TrackingRules | None = None
                shown_due: bool | None = None  # the check_due the last event showed
                # A process that is stopping ends its streams at once (web/lifecycle.py wakes
                # them) or within a wait.
                while (limit is None or sent < limit) and not draining() and time.monotonic() < ends:
                    if read:
                        read = False
                        shown_due = None
                        timer, rules = await current_timer(
                            stint.uow, stint.clock, tenant=principal.tenant, user=principal.user
                        )
                        if timer is not None and timer.work_item and timer.work_item not in titles:
                            # Looked up once per item the stream sees, not on every change.
                            titles.update(await work_item_titles(stint.uow, tenant=principal.tenant,
                                                                 names=[timer.work_item]))
                    now = stint.clock.now()
                    due = timer is not None and now >= timer.next_activity_check_at
                    if due is not shown_due:  # something changed: the timer, or the clock's verdict
                        shown_due = due
                        state = msgspec.json.encode(timer_out(timer, now, rules, titles))
                        if state != last:
                            last = state
                            quiet = 0.0
                            if event_id(state) == shown:
                                shown = None  # reconnected: the client shows this state already
                                continue
                            sent += 1
                            yield ServerSentEventMessage(
                                data=state.decode(), event="timer", id=event_id(state))
                            continue
                    if (timer is not None and rules is not None and due_stop(timer, now, rules) is not None
                            and time.monotonic() - looked >= WAIT_SECONDS):
                        looked = time.monotonic()
                        read = True  # the read applies the rule's stop, as a poll used to
                        continue
                    # Only a running timer changes with the clock; an idle stream sleeps until
                    # its next keep-alive unless the feed (or draining) wakes it.
                    wait = WAIT_SECONDS if timer is not None else KEEP_ALIVE_SECONDS - quiet
                    try:
                        item = await changes.next(wait)
                    except FellBehind:
                        return  # the client reconnects and reads the current state
                    if item is None:
                        quiet += wait
                        if quiet >= KEEP_ALIVE_SECONDS:
                            quiet = 0.0
                            yield ServerSentEventMessage(comment="keep-alive")
                    elif isinstance(item, Resync) or (item.timer and not item.carries_state):
                        read = True
                    elif item.timer:
                        heard, previous = time.monotonic(), heard
                        if heard - previous < BURST_SECONDS:
                            # Two changes this close may have been published out of commit
                            # order (two processes): the database says which is last.
                            read = True
                        else:
                            timer, shown_due = item.state, None
                            if timer is not None and timer.work_item and timer.work_item not in titles:
                                titles.update(await work_item_titles(
                                    stint.uow, tenant=principal.tenant, names=[timer.work_item]))

        return ServerSentEvent(feed())
