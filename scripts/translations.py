"""Write translations/en.json from strings.json, resolving [%key:...%] references.

Usage: .venv/bin/python scripts/translations.py [--check]

References are looked up in Home Assistant's own strings (``common::...`` in
homeassistant/strings.json, ``component::NAME::...`` in each component's
strings.json, our own included). With --check nothing is written; the exit code tells
whether translations/en.json is current.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import re
import sys
from typing import Any

import homeassistant

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "google_calendar_sync"
DOMAIN = INTEGRATION.name
HA_ROOT = Path(homeassistant.__file__).parent
REFERENCE = re.compile(r"\[%key:([a-z0-9_]+(?:::(?:[a-z0-9_-]+))+)%\]")


def _load(path: Path) -> dict[str, Any]:
    """Read a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


class Resolver:
    """Resolve [%key:...%] references against Home Assistant's strings."""

    def __init__(self, own: dict[str, Any]) -> None:
        """Remember our strings; Home Assistant's are read on demand."""
        self._sources: dict[str, dict[str, Any]] = {f"component::{DOMAIN}": own}

    def _source(self, key: str) -> tuple[dict[str, Any], list[str]]:
        """Return the strings a key points into and the remaining path."""
        parts = key.split("::")
        if parts[0] == "common":
            name = "common"
            if name not in self._sources:
                self._sources[name] = _load(HA_ROOT / "strings.json")["common"]
            return self._sources[name], parts[1:]
        if parts[0] == "component" and len(parts) > 2:
            name = f"component::{parts[1]}"
            if name not in self._sources:
                path = HA_ROOT / "components" / parts[1] / "strings.json"
                self._sources[name] = _load(path)
            return self._sources[name], parts[2:]
        raise KeyError(key)

    def lookup(self, key: str, seen: frozenset[str] = frozenset()) -> str:
        """Return the text of a reference, following nested references."""
        if key in seen:
            raise ValueError(f"Circular reference: {key}")
        node: Any
        node, path = self._source(key)
        for part in path:
            node = node[part]
        if not isinstance(node, str):
            raise TypeError(f"{key} is not a string")
        return self.resolve_text(node, seen | {key})

    def resolve_text(self, text: str, seen: frozenset[str] = frozenset()) -> str:
        """Replace every reference in a text."""
        return REFERENCE.sub(lambda match: self.lookup(match.group(1), seen), text)

    def resolve(self, node: Any) -> Any:
        """Resolve a whole strings tree."""
        if isinstance(node, dict):
            return {key: self.resolve(value) for key, value in node.items()}
        if isinstance(node, str):
            return self.resolve_text(node)
        return node


def build() -> str:
    """Return the text translations/en.json should have."""
    strings = _load(INTEGRATION / "strings.json")
    english = Resolver(strings).resolve(strings)
    return json.dumps(english, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    """Write or check translations/en.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only check, write nothing"
    )
    args = parser.parse_args()
    target = INTEGRATION / "translations" / "en.json"
    text = build()
    current = target.read_text(encoding="utf-8") if target.exists() else None
    if args.check:
        if current != text:
            print(f"{target} is out of date; run scripts/translations.py")
            return 1
        return 0
    if current != text:
        target.parent.mkdir(exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"Wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
