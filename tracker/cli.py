"""``stint-tracker``: the commands, what they print, and the exit codes.

Exit codes: 0 done; 1 the server refused the request (its reason is printed); 2 the command
line was wrong; 3 not paired — never logged in, or unpaired on the server (run
``stint-tracker login`` again); 4 the server could not be reached. Messages go to stderr,
results to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, TextIO

import httpx

from tracker import device
from tracker.events import Event, follow
from tracker.session import CLIENT_ID, NotPaired, Session, TrackerError
from tracker.store import Tokens, TokenStore


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    store = TokenStore()
    try:
        return int(args.run(args, store))
    except TrackerError as error:
        print(f"stint-tracker: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="stint-tracker", description="Track time on Stint from the terminal.",
        epilog="Exit codes: 0 done, 1 refused by the server, 2 usage, 3 not paired (run login), "
               "4 server unreachable.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    login = commands.add_parser("login", help="pair with your Stint account (device code)")
    login.add_argument("url", nargs="?", help="the Stint server, e.g. https://acme.stint.example")
    login.add_argument("--server", dest="server", help="the same as URL")
    login.set_defaults(run=run_login)

    start = commands.add_parser("start", aliases=["switch"],
                                help="start the timer; a running one stops (so `switch` is the same)")
    start.add_argument("--work-item", "-w", type=int, metavar="N", help="the work item's id")
    start.add_argument("--comment", "-c", help="what you are working on")
    start.set_defaults(run=run_start)

    commands.add_parser("status", help="the running timer").set_defaults(run=run_status)
    commands.add_parser("stop", help="stop the timer; shows the worklog it made").set_defaults(run=run_stop)
    commands.add_parser("check", help="answer the activity check: still working").set_defaults(run=run_check)
    commands.add_parser("today", help="today's worklogs").set_defaults(run=run_today)
    commands.add_parser("watch", help="the timer, live (Ctrl-C ends)").set_defaults(run=run_watch)
    commands.add_parser("logout", help="give the pairing back and forget the tokens").set_defaults(
        run=run_logout)
    return top


# -- login / logout -------------------------------------------------------------------------


def run_login(args: argparse.Namespace, store: TokenStore) -> int:
    known = store.load()
    server = args.server or args.url or (known.server if known else None)
    if not server:
        print("stint-tracker: which server? `stint-tracker login https://…`", file=sys.stderr)
        return 2
    server = server.rstrip("/")

    def show(started: dict[str, Any]) -> None:
        print(f"Open {started['verification_uri']} and enter the code {started['user_code']}")
        if started.get("verification_uri_complete"):
            print(f"(or open {started['verification_uri_complete']})")
        print("Waiting for you to approve…", flush=True)

    with httpx.Client(base_url=server, timeout=15) as http:
        tokens = device.login(http, server, show)
        store.save(tokens)
        try:
            me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens.access_token}"})
            who = me.json().get("email", "?") if me.status_code == 200 else "?"
        except (httpx.HTTPError, ValueError):
            who = "?"  # paired all the same; the next command will tell if the server is away
    print(f"Paired as {who} with {server} (scopes: {tokens.scope}).")
    print(f"Tokens are kept in {store.path}")
    return 0


def run_logout(args: argparse.Namespace, store: TokenStore) -> int:
    tokens = store.load()
    if tokens is None or not tokens.paired:
        print("Not paired; nothing to do.")
        return 0
    with contextlib.suppress(httpx.TransportError), httpx.Client(base_url=tokens.server, timeout=15) as http:
        # RFC 7009: revoking the refresh token ends the grant, its access tokens with it.
        http.post("/oauth/revoke", data={"token": tokens.refresh_token, "token_type_hint": "refresh_token",
                                         "client_id": CLIENT_ID})
    store.save(Tokens(server=tokens.server))
    print(f"Logged out of {tokens.server}.")
    return 0


# -- the timer --------------------------------------------------------------------------------


@contextlib.contextmanager
def session(store: TokenStore) -> Any:
    s = Session(store)
    try:
        yield s
    finally:
        s.close()


def run_start(args: argparse.Namespace, store: TokenStore) -> int:
    body: dict[str, Any] = {}
    if args.work_item is not None:
        body["work_item"] = args.work_item
    if args.comment:
        body["comment"] = args.comment
    with session(store) as s:
        timer = s.request("POST", "/api/v1/tracking/start", json=body).json()
    if timer.get("stopped"):
        print(f"Stopped: {worklog_line(timer['stopped'])}")
    print(timer_line(timer, now()))
    return 0


def run_status(args: argparse.Namespace, store: TokenStore) -> int:
    with session(store) as s:
        timer = s.request("GET", "/api/v1/tracking/current").json()
    print(timer_line(timer, now()))
    return 0


def run_stop(args: argparse.Namespace, store: TokenStore) -> int:
    with session(store) as s:
        answer = s.request("POST", "/api/v1/tracking/stop")
    if answer.status_code == 204:
        print("Stopped within its first second: no worklog made.")
    else:
        print(f"Stopped: {worklog_line(answer.json())}")
    return 0


def run_check(args: argparse.Namespace, store: TokenStore) -> int:
    with session(store) as s:
        timer = s.request("POST", "/api/v1/tracking/activity-check", json={}).json()
    print(timer_line(timer, now()))
    return 0


def run_today(args: argparse.Namespace, store: TokenStore) -> int:
    day = date.today().isoformat()
    with session(store) as s:
        page = s.request("GET", "/api/v1/worklogs", params={"from": day, "to": day, "limit": 500}).json()
    items = page.get("items", [])
    for item in items:
        print(worklog_line(item))
    total = sum(int(i.get("length_s") or 0) for i in items)
    print(f"Today: {clock_text(total)} in {len(items)} worklog{'s' if len(items) != 1 else ''}")
    return 0


def run_watch(args: argparse.Namespace, store: TokenStore, out: TextIO | None = None) -> int:
    """The timer as the server sees it, redrawn every second on a terminal (one line per
    change otherwise). A reader thread follows the event stream; this one draws."""
    out = out or sys.stdout
    tty = out.isatty()
    inbox: queue.Queue[object] = queue.Queue()
    stop = threading.Event()

    with session(store) as s:
        def read() -> None:
            try:
                follow(s, inbox.put, inbox.put, stop)
            except BaseException as error:  # handed to the drawing thread, which exits with it
                inbox.put(error)

        reader = threading.Thread(target=read, name="stint-tracker-events", daemon=True)
        reader.start()
        timer: dict[str, Any] | None = None
        note = "connecting…"
        shown = ""
        try:
            while True:
                try:
                    item = inbox.get(timeout=1.0)
                except queue.Empty:
                    item = None
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, Event) and item.event == "timer":
                    timer = parse_timer(item.data)
                elif isinstance(item, str):
                    note = item
                line = watch_line(timer, note, now())
                if tty:
                    out.write("\r\x1b[K" + line)
                    out.flush()
                elif watch_line(timer, note, None) != shown:
                    shown = watch_line(timer, note, None)
                    out.write(line + "\n")
                    out.flush()
        except KeyboardInterrupt:
            if tty:
                out.write("\n")
            return 0
        finally:
            stop.set()


# -- what is printed --------------------------------------------------------------------------


def now() -> datetime:
    return datetime.now(UTC)


def parse_timer(data: str) -> dict[str, Any] | None:
    import json

    try:
        parsed = json.loads(data)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def clock_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def item_text(work_item: Any, title: Any) -> str:
    if not work_item:
        return "no work item"
    return f"#{work_item} {title}" if title else f"#{work_item}"


def timer_line(timer: dict[str, Any], at: datetime | None) -> str:
    """``Tracking #12 Fix the login — 0:05:23 (since 14:02 UTC) · comment``; without ``at``
    the line leaves out the running time (so a change of state is told from a tick)."""
    if not timer.get("running"):
        return "Not tracking."
    started = datetime.fromisoformat(str(timer["started_at"]))
    text = f"Tracking {item_text(timer.get('work_item'), timer.get('work_item_title'))}"
    if at is not None:
        text += f" — {clock_text((at - started).total_seconds())}"
    text += f" (since {started.astimezone().strftime('%H:%M %Z')})"
    if timer.get("comment"):
        text += f" · {timer['comment']}"
    if timer.get("check_due"):
        text += " · still working? run `stint-tracker check`"
    return text


def watch_line(timer: dict[str, Any] | None, note: str, at: datetime | None) -> str:
    line = timer_line(timer, at) if timer is not None else ""
    if note:
        line = f"{line} [{note}]" if line else f"[{note}]"
    return line


def worklog_line(worklog: dict[str, Any]) -> str:
    started = datetime.fromisoformat(str(worklog["started_at"])).astimezone()
    text = (f"{started.strftime('%H:%M')} {clock_text(int(worklog.get('length_s') or 0))} on "
            f"{item_text(worklog.get('work_item'), worklog.get('work_item_title'))}")
    if worklog.get("comment"):
        text += f" · {worklog['comment']}"
    return text


__all__ = ["NotPaired", "main"]
