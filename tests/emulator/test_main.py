"""python -m google_calendar_emulator runs the emulator alone."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
import signal
import socket
import sys
from typing import Any

import aiohttp
import pytest

from google_calendar_emulator.__main__ import parse_args

ROOT = Path(__file__).resolve().parents[2]


async def _start(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "google_calendar_emulator",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _base_url(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = (await process.stdout.readline()).decode()
    assert line.startswith("Google Calendar emulator listening on http://127.0.0.1:")
    return line.rsplit(" ", 1)[1].strip()


def test_defaults() -> None:
    args = parse_args([])
    assert (args.host, args.port, args.seed, args.debug) == (
        "127.0.0.1",
        8765,
        "none",
        False,
    )
    assert parse_args(["--port", "0", "--seed", "demo"]).seed == "demo"
    assert (args.today, args.time_zone, args.state, args.reset) == (
        None,
        "UTC",
        None,
        False,
    )
    assert parse_args(["--today", "2030-01-07"]).today == date(2030, 1, 7)


async def _run_once(*args: str) -> list[dict[str, Any]]:
    """Start the emulator, list the demo user's events, stop it with SIGTERM."""
    process = await _start("--port", "0", *args)
    try:
        base_url = await _base_url(process)
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{base_url}emulator/calendars/demo@example.com/events"
            ) as response,
        ):
            events: list[dict[str, Any]] = (await response.json())["items"]
        process.send_signal(signal.SIGTERM)
        await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    return events


async def test_state_file_continues_after_a_restart_and_reset_starts_over(
    socket_enabled: None, tmp_path: Path
) -> None:
    """--state keeps the demo's events (and tokens); --reset seeds afresh."""
    state = str(tmp_path / "emulator-state.json")
    first = await _run_once("--seed", "demo", "--state", state)
    again = await _run_once("--seed", "demo", "--state", state)
    assert [event["id"] for event in again] == [event["id"] for event in first]
    reset = await _run_once("--seed", "demo", "--state", state, "--reset")
    assert {event["summary"] for event in reset} == {e["summary"] for e in first}
    assert {event["id"] for event in reset}.isdisjoint(
        event["id"] for event in first if not event["id"].startswith("demo")
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_runs_alone_answers_and_stops_cleanly(
    socket_enabled: None, stop_signal: signal.Signals
) -> None:
    process = await _start("--port", "0", "--seed", "demo")
    try:
        base_url = await _base_url(process)
        async with aiohttp.ClientSession() as session:
            async with session.get(base_url) as response:
                assert response.status == 200
                assert "emulator" in await response.text()
            async with session.post(
                f"{base_url}emulator/tokens", json={"email": "demo@example.com"}
            ) as response:
                token = (await response.json())["access_token"]
            async with session.get(
                f"{base_url}calendar/v3/users/me/calendarList",
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                assert response.status == 200
                calendars = (await response.json())["items"]
        assert len(calendars) == 3

        process.send_signal(stop_signal)
        stdout, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0
    output = stdout.decode()
    assert "API endpoint:" in output
    assert "Demo user:     demo@example.com" in output
    assert "API key:       AIzaDemoKeyForPublicCalendars" in output
    assert output.rstrip().endswith("Google Calendar emulator stopped")


async def test_busy_port_is_a_one_line_error(socket_enabled: None) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        process = await _start("--port", str(busy.getsockname()[1]))
        _, stderr = await process.communicate()

    assert process.returncode == 1
    assert "google_calendar_emulator: cannot listen:" in stderr.decode()
