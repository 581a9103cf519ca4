"""Translations: en.json is generated from strings.json and covers every key used."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
import re
from types import ModuleType

INTEGRATION = (
    Path(__file__).parent.parent / "custom_components" / "google_calendar_sync"
)
SCRIPT = Path(__file__).parent.parent / "scripts" / "translations.py"


def _script() -> ModuleType:
    """Import scripts/translations.py."""
    spec = importlib.util.spec_from_file_location("translations_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_en_json_is_generated_from_strings_json() -> None:
    """translations/en.json must be current; run scripts/translations.py if not."""
    expected = _script().build()
    actual = (INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8")
    assert actual == expected, "Run .venv/bin/python scripts/translations.py"


def test_references_are_resolved() -> None:
    """No [%key:...%] reference survives in en.json."""
    text = (INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8")
    assert "[%key:" not in text


def test_every_translation_key_in_the_code_has_a_message() -> None:
    """Each translation_key the integration raises is under "exceptions"."""
    strings = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
    exceptions = set(strings["exceptions"])
    used: set[str] = set()
    for module in ("__init__.py", "coordinator.py"):
        source = (INTEGRATION / module).read_text(encoding="utf-8")
        used |= set(re.findall(r'translation_key="([a-z_]+)"', source))
    assert used
    assert used <= exceptions


def test_every_flow_reason_and_error_has_a_message() -> None:
    """Abort reasons and form errors of the config flow are translated."""
    strings = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
    source = (INTEGRATION / "config_flow.py").read_text(encoding="utf-8")
    config_flow, options_flow = source.split("class GoogleCalendarSyncOptionsFlow")
    error = r'errors\[(?:"base"|CONF_[A-Z_]+)\] = (?:\(\s*)?"([a-z_]+)"'
    reasons = set(re.findall(r'reason="([a-z_]+)"', source))
    assert reasons <= set(strings["config"]["abort"])
    assert set(re.findall(error, config_flow)) <= set(strings["config"]["error"])
    assert set(re.findall(error, options_flow)) <= set(strings["options"]["error"])


def test_script_resolves_nested_component_references() -> None:
    """References to other components' strings are followed."""
    resolver = _script().Resolver({"a": {"b": "[%key:common::state::on%]"}})
    assert (
        resolver.resolve_text("[%key:component::google_calendar_sync::a::b%]") == "On"
    )
