"""Google's palette and the colors of calendars and events."""

from __future__ import annotations

from typing import Any

from hypothesis import given, strategies as st

from custom_components.google_calendar_sync.google.colors import ColorPalette

PALETTE = ColorPalette.from_colors(
    {
        "kind": "calendar#colors",
        "calendar": {"1": {"background": "#ac725e", "foreground": "#1d1d1d"}},
        "event": {
            "11": {"background": "#dc2127", "foreground": "#1d1d1d"},
            "12": {"foreground": "#1d1d1d"},
        },
    }
)


def test_a_calendar_shows_the_users_color_else_its_palette_color() -> None:
    assert PALETTE.calendar_color({"backgroundColor": "#123456", "colorId": "1"}) == (
        "#123456"
    )
    assert PALETTE.calendar_color({"colorId": "1"}) == "#ac725e"
    assert PALETTE.calendar_color({"colorId": "99"}) is None
    assert PALETTE.calendar_color({}) is None


def test_an_event_shows_its_own_color_else_its_calendars() -> None:
    calendar = {"backgroundColor": "#9fe1e7"}
    assert PALETTE.event_color({"colorId": "11"}, calendar) == "#dc2127"
    assert PALETTE.event_color({}, calendar) == "#9fe1e7"
    # An id missing from the palette (or without a background) falls back too.
    assert PALETTE.event_color({"colorId": "12"}, calendar) == "#9fe1e7"
    assert PALETTE.event_color({"colorId": 11}, calendar) == "#dc2127"


@given(
    st.dictionaries(
        st.text(max_size=3),
        st.one_of(
            st.none(),
            st.text(max_size=5),
            st.dictionaries(st.sampled_from(["background", "foreground"]), st.text()),
        ),
    ),
    st.one_of(st.none(), st.text(max_size=3), st.integers()),
)
def test_any_palette_answer_reads_without_error(
    palette: dict[str, Any], color_id: Any
) -> None:
    """Whatever Google sends, a color is a string or None."""
    colors = ColorPalette.from_colors({"calendar": palette, "event": palette})
    found = colors.event_color({"colorId": color_id}, {"colorId": color_id})
    assert found is None or isinstance(found, str)
    assert ColorPalette.from_colors({"event": "broken"}).event == {}
