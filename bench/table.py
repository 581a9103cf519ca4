"""Run every comparison, print one table and write the figures as JSON.

Run from the repository root: scripts/bench [--tiny] [--output PATH] [--update-readme]
(--tiny: small sizes, for the smoke test; the default sizes are the issue's;
--update-readme: replace the table in README.md's Performance section).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
import json
import logging
import os
from pathlib import Path
import platform
import sys
import time
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    bench_cost,
    bench_export_compare,
    bench_freshness,
    bench_full_sync,
    bench_idle,
    bench_query,
    bench_scale,
)

RESULTS = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parent.parent / "README.md"
TABLE_START = "<!-- bench-table:start -->"
TABLE_END = "<!-- bench-table:end -->"
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Profile:
    """The sizes of one run."""

    edits: int
    cost_sizes: tuple[int, ...]
    query_sizes: tuple[int, ...]
    full_sync_sizes: tuple[int, ...]
    scale_sizes: tuple[int, ...]
    export_count: int


FULL = Profile(
    edits=200,
    cost_sizes=(100, 1_000, 10_000),
    query_sizes=(1_000, 10_000, 20_000),
    full_sync_sizes=(10_000, 20_000),
    scale_sizes=(1_000, 10_000, 20_000),
    export_count=500,
)
TINY = Profile(
    edits=5,
    cost_sizes=(20, 60),
    query_sizes=(100,),
    full_sync_sizes=(200,),
    scale_sizes=(100, 300),
    export_count=20,
)


def run(profile: Profile) -> dict[str, Any]:
    """Run every comparison; return all figures."""
    figures: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": {
            "platform": platform.platform(terse=True),
            "cpus": os.cpu_count(),
            # Other jobs share the machine: how busy it was when the run started.
            "load_average": [round(load, 2) for load in os.getloadavg()],
        },
        "sizes": asdict(profile),
    }
    sections: list[tuple[str, Callable[[], Any]]] = [
        ("freshness", lambda: bench_freshness.measure(profile.edits)),
        ("idle", bench_idle.measure),
        ("cost_per_change", lambda: bench_cost.measure(profile.cost_sizes)),
        ("query", lambda: bench_query.measure(profile.query_sizes)),
        ("full_sync", lambda: bench_full_sync.measure(profile.full_sync_sizes)),
        ("scale", lambda: bench_scale.measure(profile.scale_sizes)),
        ("export", lambda: bench_export_compare.measure(profile.export_count)),
    ]
    seconds: dict[str, float] = {}
    for name, factory in sections:
        started = time.perf_counter()
        figures[name] = asyncio.run(factory())
        seconds[name] = round(time.perf_counter() - started, 1)
        print(f"{name}: done in {seconds[name]} s", file=sys.stderr, flush=True)
    figures["section_seconds"] = seconds
    return figures


def _ms(seconds: float) -> str:
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds < 3600 else f"{seconds / 3600:g} h"


def _kb(size: float) -> str:
    return f"{size / 1024:,.1f} KB" if size < MB else f"{size / MB:,.1f} MB"


def _ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 10 else f"{value:.1f}x"


def rows(figures: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Return the table rows: what, ours, the alternative, ours is better by."""
    table: list[tuple[str, str, str, str]] = []
    fresh = figures["freshness"]
    push, polling, builtin = (
        fresh["push"],
        fresh["polling_fallback"],
        fresh["builtin_google"],
    )
    table.append(
        (
            f"Freshness, edit -> bus event ({push['edits']} edits)",
            f"push: median {_ms(push['median_s'])}, p99 {_ms(push['p99_s'])}",
            (
                f"built-in google, polls every {_minutes(builtin['poll_interval_s'])}:"
                f" expected {_minutes(builtin['expected_delay_s'])},"
                f" worst {_minutes(builtin['worst_delay_s'])}"
            ),
            _ratio(builtin["expected_delay_s"] / push["median_s"]),
        )
    )
    table.append(
        (
            "Freshness without push (our polling fallback)",
            (
                f"polls every {_minutes(polling['poll_interval_s'])}: expected"
                f" {_minutes(polling['expected_delay_s'])},"
                f" worst {_minutes(polling['worst_delay_s'])}"
            ),
            f"built-in google: expected {_minutes(builtin['expected_delay_s'])}",
            _ratio(builtin["expected_delay_s"] / polling["expected_delay_s"]),
        )
    )
    idle = figures["idle"]
    table.append(
        (
            "Idle API requests per calendar per day",
            (
                f"{idle['push']['requests_per_day']:.1f} (safety-net poll every"
                f" {_minutes(idle['push']['safety_net_interval_s'])}, channel renewal"
                f" every {idle['push']['renewal_interval_s'] / 86400:g} d)"
            ),
            (
                f"built-in google: {idle['builtin_google']['requests_per_day']:.0f}"
                f" ({idle['builtin_google']['requests_per_poll']} per poll);"
                f" 15-min polling: {idle['polling_fallback']['requests_per_day']:.0f}"
            ),
            _ratio(
                idle["builtin_google"]["requests_per_day"]
                / idle["push"]["requests_per_day"]
            ),
        )
    )
    table.extend(
        (
            f"Cost to learn 1 change, {cost['events']:,} events",
            f"{cost['ours_requests']:g} request, {_kb(cost['ours_bytes'])}",
            (
                f"re-list + compare sequence: {cost['naive_requests']:g} request(s),"
                f" {_kb(cost['naive_bytes'])}"
            ),
            _ratio(cost["naive_bytes"] / cost["ours_bytes"]),
        )
        for cost in figures["cost_per_change"]
    )
    table.extend(
        (
            (
                f"async_get_events, one month, {query['events']:,} events"
                f" ({query['series']} series)"
            ),
            (
                f"{_ms(query['ours_query_s'])} (timeline"
                f" {_ms(query['ours_timeline_s'])}; index build"
                f" {_ms(query['ours_build_s'])})"
            ),
            (
                f"built-in google (gcal_sync): {_ms(query['gcal_sync_query_s'])}"
                f" (timeline {_ms(query['gcal_sync_timeline_s'])}; build"
                f" {_ms(query['gcal_sync_build_s'])})"
            ),
            (
                f"{_ratio(query['query_speedup'])} (timeline"
                f" {_ratio(query['timeline_speedup'])})"
            ),
        )
        for query in figures["query"]
    )
    for sync in figures["full_sync"]:
        ours, gcal = sync["ours"], sync["gcal_sync"]
        table.append(
            (
                f"Full sync from scratch and index, {sync['events']:,} events",
                f"{ours['seconds']:.1f} s, peak memory {_kb(ours['peak_bytes'])}",
                (
                    f"gcal_sync: {gcal['seconds']:.1f} s, peak memory"
                    f" {_kb(gcal['peak_bytes'])}"
                ),
                (
                    f"{_ratio(gcal['seconds'] / ours['seconds'])} time,"
                    f" {_ratio(gcal['peak_bytes'] / ours['peak_bytes'])} memory"
                ),
            )
        )
    table.extend(_scale_rows(figures["scale"]))
    export = figures["export"]
    table.append(
        (
            f"Export {export['appointments']} appointments",
            (
                f"batched: {export['batched_requests']} requests,"
                f" {export['batched_s']:.2f} s (~{export['batched_estimate_s']:.1f} s"
                f" at {export['round_trip_s'] * 1000:.0f} ms/round trip)"
            ),
            (
                f"one per event: {export['single_requests']} requests,"
                f" {export['single_s']:.2f} s (~{export['single_estimate_s']:.1f} s)"
            ),
            _ratio(export["single_estimate_s"] / export["batched_estimate_s"]),
        )
    )
    return table


def _per_size(
    scale: list[dict[str, Any]], show: Callable[[dict[str, Any]], str]
) -> str:
    """Return one figure per calendar size: "1,000: x; 20,000: y"."""
    return "; ".join(f"{size['events']:,}: {show(size)}" for size in scale)


def _scale_rows(scale: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """Return the rows of issue 14: cost per change, stalls, startup, queries."""
    small, large = scale[0], scale[-1]
    sizes = " / ".join(f"{size['events']:,}" for size in scale)
    table: list[tuple[str, str, str, str]] = [
        (
            f"CPU per {kind}, {sizes} events",
            _per_size(scale, lambda size, key=key: _ms(size[key]["cpu_s"])),
            "target: flat (largest within 2x of smallest)",
            (
                f"{large['events']:,} / {small['events']:,}:"
                f" {large[key]['cpu_s'] / small[key]['cpu_s']:.1f}x"
            ),
        )
        for kind, key in (
            ("1-change sync", "sync"),
            ("local write (create_event)", "write"),
        )
    ]
    builtin = large["builtin_google"]
    table.append(
        (
            (
                f"Longest event-loop stall, {large['events']:,} events (each step"
                " after a full collection of what earlier steps left; startup to"
                " the entity's answer)"
            ),
            (
                f"1-change sync {_ms(large['sync']['stall_s'])}, local write"
                f" {_ms(large['write']['stall_s'])}, full sync"
                f" {_ms(large['full_sync']['stall_s'])}, startup"
                f" {_ms(large['startup']['stall_s'])} (longest garbage collection"
                f" pass: full sync {_ms(large['full_sync']['gc_s'])}, startup"
                f" {_ms(large['startup']['gc_s'])})"
            ),
            f"built-in google startup: {_ms(builtin['startup']['stall_s'])}",
            (
                "startup"
                f" {_ratio(builtin['startup']['stall_s'] / large['startup']['stall_s'])}"
            ),
        )
    )
    table.append(
        (
            "Store bytes written per change (1-change sync; local write)",
            _per_size(
                scale,
                lambda size: (
                    f"{_kb(size['sync']['store_bytes'])};"
                    f" {_kb(size['write']['store_bytes'])}"
                ),
            ),
            "target: proportional to the change",
            (
                f"{large['events']:,} / {small['events']:,}:"
                f" {large['sync']['store_bytes'] / small['sync']['store_bytes']:.1f}x"
            ),
        )
    )
    table.append(
        (
            f"Store on disk, {large['events']:,} events",
            _kb(large["store_size_bytes"]),
            f"built-in google: {_kb(builtin['store_size_bytes'])}",
            _ratio(builtin["store_size_bytes"] / large["store_size_bytes"]),
        )
    )
    ours_query, their_query = large["query"], builtin["query"]
    table.append(
        (
            f"async_get_events through the entity, one month, {large['events']:,} events",
            (
                f"{_ms(ours_query['best_s'])} (first call {_ms(ours_query['first_s'])};"
                f" {ours_query['found']} events)"
            ),
            (
                f"built-in google: {_ms(their_query['best_s'])} (first call"
                f" {_ms(their_query['first_s'])}; {their_query['found']} events)"
            ),
            _ratio(their_query["best_s"] / ours_query["best_s"]),
        )
    )
    ours_start, their_start = large["startup"], builtin["startup"]
    table.append(
        (
            f"Startup from a stored {large['events']:,}-event calendar to first month answered",
            (
                f"{_ms(ours_start['first_query_s'])} (entities after"
                f" {_ms(ours_start['setup_s'])}; {ours_start['requests']} API"
                " requests)"
            ),
            (
                f"built-in google: {_ms(their_start['first_query_s'])}"
                f" ({their_start['requests']} API requests)"
            ),
            _ratio(their_start["first_query_s"] / ours_start["first_query_s"]),
        )
    )
    return table


def markdown(figures: dict[str, Any]) -> str:
    """Return the table as Markdown."""
    lines = [
        "| Comparison | google_calendar_sync | Alternative | Ours better by |",
        "| --- | --- | --- | --- |",
    ]
    lines.extend(f"| {' | '.join(row)} |" for row in rows(figures))
    return "\n".join(lines)


def run_note(figures: dict[str, Any]) -> str:
    """Return when and where the run was made, for the README under the table."""
    machine = figures["machine"]
    return (
        f"One run of `scripts/bench`, {figures['started']} ({figures['profile']}"
        f" sizes, {figures['total_seconds']:.0f} s): {machine['platform']},"
        f" {machine['cpus']} CPUs shared with other jobs (load average"
        f" {machine['load_average'][0]:g} at the start), Python {figures['python']}."
    )


def update_readme(table: str, readme: Path = README) -> None:
    """Replace the table between the README's bench-table markers."""
    text = readme.read_text(encoding="utf-8")
    head, found, rest = text.partition(TABLE_START)
    _, found_end, tail = rest.partition(TABLE_END)
    if not found or not found_end:
        raise SystemExit(f"{readme}: no {TABLE_START} ... {TABLE_END} markers")
    readme.write_text(
        f"{head}{TABLE_START}\n{table}\n{TABLE_END}{tail}", encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> None:
    """Run, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--output", type=Path, help="JSON file to write")
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help="put the table into README.md's Performance section",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    profile = TINY if args.tiny else FULL
    started = time.perf_counter()
    figures = run(profile)
    figures["profile"] = "tiny" if args.tiny else "full"
    figures["total_seconds"] = round(time.perf_counter() - started, 1)
    output = args.output or RESULTS / ("tiny.json" if args.tiny else "latest.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    table = markdown(figures)
    print(table)
    if args.update_readme:
        update_readme(f"{table}\n\n{run_note(figures)}")
    print(f"\n{figures['total_seconds']} s in all; figures in {output}")


if __name__ == "__main__":
    main()
