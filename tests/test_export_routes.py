"""Tests of export routes: no export may lead back into its own source."""

from __future__ import annotations

from custom_components.google_calendar_sync.export_routes import looping_routes


def test_a_calendar_exported_into_itself_loops() -> None:
    """A route from a calendar into the same calendar is a loop on its own."""
    assert looping_routes([], [("a", "a")]) == [("a", "a")]


def test_a_route_back_loops_directly_or_through_others() -> None:
    """A into B loops once B leads into A, directly or through C."""
    assert looping_routes([("b", "a")], [("a", "b")]) == [("a", "b")]
    assert looping_routes([("b", "c"), ("c", "a")], [("a", "b")]) == [("a", "b")]


def test_routes_that_never_come_back_are_fine() -> None:
    """Chains and several sources into one target are not loops."""
    assert looping_routes([("b", "c"), ("x", "c")], [("a", "b"), ("y", "b")]) == []


def test_new_routes_are_checked_together() -> None:
    """Two new routes that only loop together are both refused."""
    assert looping_routes([], [("a", "b"), ("b", "a")]) == [("a", "b"), ("b", "a")]
