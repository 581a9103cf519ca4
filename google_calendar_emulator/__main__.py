"""Run the emulator alone: python -m google_calendar_emulator --port PORT.

With --state FILE the state is kept in FILE (loaded at start, written as it changes),
so a restart continues where it stopped; --reset starts over.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
import logging
from pathlib import Path
import signal
import sys

from .demo import (
    DEMO_API_KEY,
    DEMO_SERVICE_ACCOUNT,
    DEMO_TIME_ZONE,
    DEMO_USER,
    PUBLIC_CALENDAR,
    seed_demo,
    seed_other_ways,
)
from .server import GoogleCalendarEmulator
from .state import StateFile

_LOGGER = logging.getLogger(__name__)


def _say(line: str) -> None:
    """Write one line to stdout at once (scripts/develop reads it through a pipe)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m google_calendar_emulator",
        description="Google Calendar API v3 emulator on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free)")
    parser.add_argument(
        "--seed", choices=["demo", "none"], default="none", help="data to load"
    )
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="the demo's today, YYYY-MM-DD (default: today in --time-zone)",
    )
    parser.add_argument(
        "--time-zone",
        default=DEMO_TIME_ZONE,
        help="time zone of the demo's calendars and event times",
    )
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help="keep the state in this JSON file: a restart continues where it stopped",
    )
    parser.add_argument(
        "--reset", action="store_true", help="forget the --state file, start over"
    )
    parser.add_argument("--debug", action="store_true", help="log every request")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, stop: asyncio.Event | None = None) -> None:
    """Serve until stop is set or SIGINT/SIGTERM arrives, then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except NotImplementedError, RuntimeError:  # pragma: no cover - Windows
            pass
    emulator = GoogleCalendarEmulator(host=args.host, port=args.port)
    await emulator.start()
    state = StateFile(emulator, args.state) if args.state else None
    keeping: asyncio.Task[None] | None = None
    try:
        if state is not None and args.reset:
            args.state.unlink(missing_ok=True)
        restored = state is not None and state.load()
        if args.seed == "demo" and not restored:
            seed_demo(emulator, today=args.today, time_zone=args.time_zone)
            seed_other_ways(emulator)
        if state is not None:
            keeping = asyncio.create_task(state.keep(stop))
        _say(f"Google Calendar emulator listening on {emulator.base_url}")
        _say(f"  API endpoint:  {emulator.api_endpoint}")
        _say(f"  Batch URI:     {emulator.batch_uri}")
        _say(f"  Authorize URL: {emulator.authorize_url}")
        _say(f"  Token URL:     {emulator.token_url}")
        _say(f"  Control:       {emulator.base_url}emulator/")
        if args.seed == "demo":
            _say(f"  Demo user:     {DEMO_USER}")
            _say(f"  Service acct:  {DEMO_SERVICE_ACCOUNT}")
            _say(f"  API key:       {DEMO_API_KEY}")
            _say(f"  Public cal.:   {PUBLIC_CALENDAR}")
        await stop.wait()
    finally:
        if keeping is not None:
            stop.set()
            await keeping
        for sig in handled:
            loop.remove_signal_handler(sig)
        await emulator.stop()
        _say("Google Calendar emulator stopped")


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        asyncio.run(run(args))
    except OSError as err:
        sys.stderr.write(f"google_calendar_emulator: cannot listen: {err}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
