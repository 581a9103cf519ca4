"""What Home Assistant, hassfest and HACS check before they accept the integration.

Home Assistant's own validation runs where the installed package carries it (the
loader's manifest and version checks, the services.yaml schema of
``homeassistant.helpers.service``). hassfest and HACS are not installed packages, so
their rules are mirrored here from ``home-assistant/core`` ``script/hassfest``
(``manifest.py``, ``translations.py``, ``services.py``, ``icons.py``,
``quality_scale.py``) and ``hacs/integration`` ``custom_components/hacs/utils/validate.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from importlib import metadata
import json
from pathlib import Path
import re
import string
import tomllib
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from hassil import Intents, recognize
from homeassistant import const as ha_const
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, service
from homeassistant.loader import Integration, async_get_integration
from homeassistant.util.yaml import load_yaml_dict
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from PIL import Image
import probatio
import pytest
import voluptuous as vol
import yaml

import custom_components
from custom_components.google_calendar_sync.const import DOMAIN
from custom_components.google_calendar_sync.intent import INTENT_CREATE_EVENT
from custom_components.google_calendar_sync.service_events import (
    CREATE_EVENT_SCHEMA,
    DELETE_EVENT_SCHEMA,
    UPDATE_EVENT_SCHEMA,
)
from custom_components.google_calendar_sync.service_export import EXPORT_SCHEMA
from custom_components.google_calendar_sync.services import async_setup_services

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / DOMAIN


def _json(name: str) -> dict[str, Any]:
    """Read a JSON file of the integration."""
    return json.loads((INTEGRATION / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _yaml(name: str) -> dict[str, Any]:
    """Read a YAML file of the integration with Home Assistant's loader."""
    return load_yaml_dict(str(INTEGRATION / name))


# --- manifest.json -------------------------------------------------------------------

VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]


def _version(value: str) -> str:
    """Accept a version the way hassfest and the loader do."""
    try:
        AwesomeVersion(value, ensure_strategy=VERSION_STRATEGIES)
    except Exception as err:
        raise vol.Invalid(f"'{value}' is not a valid version.") from err
    return value


def _https(value: str) -> str:
    """Require an https URL."""
    if not value.startswith("https://"):
        raise vol.Invalid("URL is not prefixed with https")
    return value


def _requirement(value: str) -> str:
    """Require a pip requirement without spaces (hassfest asks == of core only)."""
    if " " in value:
        raise vol.Invalid(f"requirement {value!r} contains a space")
    try:
        Requirement(value)
    except InvalidRequirement as err:
        raise vol.Invalid(f"requirement {value!r} is invalid: {err}") from err
    return value


# hassfest's INTEGRATION_MANIFEST_SCHEMA + CUSTOM_INTEGRATION_MANIFEST_SCHEMA, the keys a
# cloud service can use; discovery matchers are left out because an unknown key fails.
CUSTOM_INTEGRATION_MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("domain"): str,
        vol.Required("name"): str,
        vol.Optional("integration_type", default="hub"): vol.In(
            ["device", "entity", "hardware", "helper", "hub", "service", "system"]
        ),
        vol.Optional("config_flow"): bool,
        vol.Required("documentation"): vol.All(vol.Url(), _https),
        vol.Optional("issue_tracker"): vol.Url(),
        vol.Optional("quality_scale"): vol.In(
            ["bronze", "silver", "gold", "platinum", "internal", "legacy"]
        ),
        vol.Optional("requirements"): [vol.All(str, _requirement)],
        vol.Optional("dependencies"): [str],
        vol.Optional("after_dependencies"): [str],
        vol.Required("codeowners"): [vol.Match(r"^@[\w./-]+$")],
        vol.Optional("loggers"): [str],
        vol.Optional("disabled"): str,
        vol.Optional("iot_class"): vol.In(
            [
                "assumed_state",
                "calculated",
                "cloud_polling",
                "cloud_push",
                "local_polling",
                "local_push",
            ]
        ),
        vol.Optional("single_config_entry"): bool,
        vol.Required("version"): vol.All(str, _version),
        vol.Optional("import_executor"): bool,
    }
)

# HACS: INTEGRATION_MANIFEST_JSON_SCHEMA (extra keys allowed) and HACS_MANIFEST_JSON_SCHEMA.
HACS_INTEGRATION_MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("codeowners"): list,
        vol.Required("documentation"): vol.Url(),
        vol.Required("domain"): str,
        vol.Required("issue_tracker"): vol.Url(),
        vol.Required("name"): str,
        vol.Required("version"): vol.Coerce(AwesomeVersion),
    },
    extra=vol.ALLOW_EXTRA,
)
HACS_JSON_SCHEMA = vol.Schema(
    {
        vol.Optional("content_in_root"): bool,
        vol.Optional("country"): vol.Any(str, [str]),
        vol.Optional("filename"): str,
        vol.Optional("hacs"): vol.Coerce(AwesomeVersion),
        vol.Optional("hide_default_branch"): bool,
        vol.Optional("homeassistant"): vol.Coerce(AwesomeVersion),
        vol.Optional("persistent_directory"): str,
        vol.Optional("render_readme"): bool,
        vol.Optional("zip_release"): bool,
        vol.Required("name"): str,
    },
    extra=vol.PREVENT_EXTRA,
)


def test_manifest_matches_hassfest_custom_integration_schema() -> None:
    """manifest.json passes hassfest's schema for custom integrations."""
    manifest = _json("manifest.json")
    CUSTOM_INTEGRATION_MANIFEST_SCHEMA(manifest)
    assert manifest["domain"] == INTEGRATION.name == DOMAIN
    assert manifest["iot_class"] == "cloud_push"
    assert manifest["config_flow"] is True
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "hassfest: domain, name, then alphabetical"


def test_manifest_meets_hassfest_rules_for_its_quality_scale() -> None:
    """Above silver hassfest wants a code owner and diagnostics."""
    manifest = _json("manifest.json")
    assert manifest["quality_scale"] == "gold"
    assert manifest["codeowners"]
    assert (INTEGRATION / "diagnostics.py").is_file()


def test_manifest_passes_hacs_schemas() -> None:
    """HACS reads the same manifest with its own, looser schema."""
    HACS_INTEGRATION_MANIFEST_SCHEMA(_json("manifest.json"))


def test_requirements_are_mirrored_and_installed() -> None:
    """Each requirement is mirrored in requirements.txt and met by what is installed."""
    requirements: list[str] = _json("manifest.json")["requirements"]
    runtime = {
        line.strip()
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert set(requirements) == runtime
    for requirement in map(Requirement, requirements):
        assert requirement.specifier.contains(metadata.version(requirement.name))


def test_requirements_agree_with_home_assistant_integrations() -> None:
    """A package Home Assistant's own integrations pin satisfies our requirement.

    Otherwise a user of Google Tasks or Google Mail (google-api-python-client==2.71.0)
    would get the package reinstalled back and forth on every start.
    """
    ours = {
        canonicalize_name(requirement.name): requirement
        for requirement in map(Requirement, _json("manifest.json")["requirements"])
    }
    shared = 0
    for manifest in (Path(ha_const.__file__).parent / "components").glob(
        "*/manifest.json"
    ):
        for pin in json.loads(manifest.read_text(encoding="utf-8")).get(
            "requirements", []
        ):
            theirs = Requirement(pin)
            if (mine := ours.get(canonicalize_name(theirs.name))) is None:
                continue
            shared += 1
            for version in (spec.version for spec in theirs.specifier):
                assert mine.specifier.contains(version), (
                    f"{manifest.parent.name}: {pin}"
                )
    assert shared >= 2, "google_mail and google_tasks share google-api-python-client"


async def test_home_assistant_loads_the_manifest(hass: HomeAssistant) -> None:
    """The loader accepts the custom integration (version key included)."""
    integration = Integration.resolve_from_root(hass, custom_components, DOMAIN)
    assert integration is not None
    assert not integration.is_built_in
    assert integration.version == AwesomeVersion(_json("manifest.json")["version"])
    assert integration.has_services
    assert integration.has_translations
    assert integration.has_branding
    assert integration.config_flow


async def test_dependencies_are_built_in_integrations(hass: HomeAssistant) -> None:
    """Every (after) dependency is an integration Home Assistant ships."""
    manifest = _json("manifest.json")
    for domain in (*manifest["dependencies"], *manifest["after_dependencies"]):
        assert (await async_get_integration(hass, domain)).is_built_in, domain


def test_hacs_json_passes_hacs_schema() -> None:
    """hacs.json uses only HACS's keys and names a released Home Assistant."""
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    validated = HACS_JSON_SCHEMA(hacs)
    assert hacs["name"] == _json("manifest.json")["name"]
    # The integration lives in custom_components/<domain>, not the repository root.
    assert hacs.get("content_in_root", False) is False
    assert [
        path.name
        for path in (ROOT / "custom_components").iterdir()
        if path.is_dir() and not path.name.startswith("__")
    ] == [DOMAIN]
    assert validated["homeassistant"] <= AwesomeVersion(ha_const.__version__)


def test_brand_images_are_square_pngs() -> None:
    """The local brand icons Home Assistant serves for custom integrations are 256 and 512 px."""
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        with Image.open(INTEGRATION / "brand" / name) as image:
            assert image.format == "PNG"
            assert image.size == (size, size)


# --- strings.json (hassfest translations.py) -------------------------------------------

RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
RE_COMBINED_REFERENCE = re.compile(r"(.+\[%)|(%\].+)")
RE_PLACEHOLDER_IN_SINGLE_QUOTES = re.compile(r"'{\w+}'")
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)


def _translation_key(value: str) -> str:
    """Accept a translation key."""
    if RE_TRANSLATION_KEY.match(value) is None:
        raise vol.Invalid(f"Invalid translation key '{value}'")
    return value


def _placeholders(value: str) -> set[str]:
    """Return the placeholder names of a message."""
    return {field for _, field, _, _ in string.Formatter().parse(value) if field}


def _translation(*, allow_placeholders: bool = True) -> Callable[[Any], str]:
    """Return hassfest's validator of one translated string."""

    def validate(value: Any) -> str:
        text = cv.string_with_no_html(value)
        if RE_PLACEHOLDER_IN_SINGLE_QUOTES.search(text):
            raise vol.Invalid("placeholder inside single quotes")
        for name in _placeholders(text):
            if not allow_placeholders:
                raise vol.Invalid("placeholders are not supported in this value")
            if not name.isidentifier():
                raise vol.Invalid("placeholders must be valid identifiers")
        if RE_COMBINED_REFERENCE.search(text):
            raise vol.Invalid("the string should not contain combined translations")
        if text != text.strip():
            raise vol.Invalid("leading or trailing spaces")
        if RE_URL.search(text):
            raise vol.Invalid("URLs belong in description placeholders")
        return text

    return validate


TEXT = _translation()
TEXT_NO_PLACEHOLDERS = _translation(allow_placeholders=False)


def _data_entry_schema() -> vol.All:
    """Return hassfest's schema of a config or options flow's strings."""

    def data_description_in_data(value: dict[str, Any]) -> dict[str, Any]:
        for step in value["step"].values():
            for key in step.get("data_description", {}):
                if key not in step.get("data", {}):
                    raise vol.Invalid(f"data_description key {key} is not in data")
        return value

    def no_brand_title(value: dict[str, Any]) -> dict[str, Any]:
        # hassfest only enforces this for core; a brand-name step title is noise anyway.
        for step_id, step in value["step"].items():
            if step.get("title") == _json("manifest.json")["name"]:
                raise vol.Invalid(f"step {step_id} is titled with the brand name")
        return value

    return vol.All(
        vol.Schema(
            {
                vol.Optional("flow_title"): TEXT,
                vol.Required("step"): {
                    str: {
                        vol.Optional("title"): TEXT,
                        vol.Optional("common"): _slug_keys(TEXT),
                        vol.Optional("description"): TEXT,
                        vol.Optional("data"): {str: TEXT},
                        vol.Optional("data_description"): {str: TEXT},
                        vol.Optional("menu_options"): {str: TEXT},
                        vol.Optional("menu_option_descriptions"): {str: TEXT},
                        vol.Optional("submit"): TEXT,
                        vol.Optional("sections"): {
                            str: {
                                vol.Optional("data"): {str: TEXT},
                                vol.Optional("data_description"): {str: TEXT},
                                vol.Optional("description"): TEXT,
                                vol.Optional("name"): TEXT,
                            }
                        },
                    }
                },
                vol.Optional("error"): {str: TEXT},
                vol.Optional("abort"): {str: TEXT},
                vol.Optional("progress"): {str: TEXT},
                vol.Optional("create_entry"): {str: TEXT},
                vol.Optional("initiate_flow"): {vol.Required("user"): TEXT},
            }
        ),
        data_description_in_data,
        no_brand_title,
    )


def _slug_keys(value_schema: Any, slug: Callable[[Any], str] = cv.slug) -> Any:
    """Return a mapping schema with validated keys."""
    return cv.schema_with_slug_keys(value_schema, slug_validator=slug)


STRINGS_SCHEMA = vol.Schema(
    {
        vol.Optional("title"): TEXT,
        vol.Optional("common"): _slug_keys(TEXT),
        vol.Optional("config"): _data_entry_schema(),
        vol.Optional("options"): _data_entry_schema(),
        vol.Optional("selector"): _slug_keys(
            {vol.Optional("options"): _slug_keys(TEXT, _translation_key)},
            vol.Any("_", cv.slug),
        ),
        vol.Optional("application_credentials"): {vol.Optional("description"): TEXT},
        vol.Optional("issues"): {
            str: vol.All(
                cv.has_at_least_one_key("description", "fix_flow"),
                vol.Schema(
                    {
                        vol.Required("title"): TEXT,
                        vol.Exclusive("description", "fixable"): TEXT,
                        vol.Exclusive("fix_flow", "fixable"): _data_entry_schema(),
                    }
                ),
            )
        },
        vol.Optional("entity"): _slug_keys(
            _slug_keys(
                {
                    vol.Optional("name"): TEXT,
                    vol.Optional("state"): _slug_keys(
                        TEXT_NO_PLACEHOLDERS, _translation_key
                    ),
                    vol.Optional("state_attributes"): _slug_keys(
                        {
                            vol.Optional("name"): TEXT_NO_PLACEHOLDERS,
                            vol.Optional("state"): _slug_keys(
                                TEXT_NO_PLACEHOLDERS, _translation_key
                            ),
                        },
                        _translation_key,
                    ),
                },
                _translation_key,
            )
        ),
        vol.Optional("exceptions"): _slug_keys({vol.Optional("message"): TEXT}),
        vol.Optional("services"): _slug_keys(
            {
                vol.Required("name"): TEXT,
                vol.Required("description"): TEXT,
                vol.Optional("fields"): _slug_keys(
                    {
                        vol.Required("name"): str,
                        vol.Required("description"): TEXT,
                        vol.Optional("example"): TEXT,
                    },
                    _translation_key,
                ),
                vol.Optional("sections"): _slug_keys(
                    {vol.Required("name"): str, vol.Optional("description"): TEXT},
                    _translation_key,
                ),
            },
            _translation_key,
        ),
    }
)


def test_strings_json_passes_hassfest_translation_schema() -> None:
    """strings.json has only the sections and string forms hassfest accepts."""
    STRINGS_SCHEMA(_json("strings.json"))


def test_generated_en_json_passes_the_same_schema() -> None:
    """hassfest validates translations/en.json of a custom integration too."""
    STRINGS_SCHEMA(_json("translations/en.json"))


def _module_constants(tree: ast.Module) -> dict[str, str]:
    """Return module-level string constants (issue ids and the like)."""
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def _strings_of(node: ast.expr, constants: dict[str, str]) -> set[str]:
    """Return the string values an expression can take (empty when unknown)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name) and node.id in constants:
        return {constants[node.id]}
    if isinstance(node, ast.IfExp):
        return _strings_of(node.body, constants) | _strings_of(node.orelse, constants)
    return set()


def _translated_errors() -> Iterator[tuple[str, str, str, set[str] | None]]:
    """Yield (section, key, where, placeholders) for each translation key the code uses.

    Covers direct ``translation_key=`` keywords and the small helpers that take the key
    as their first argument and the placeholders as keyword arguments.
    """
    trees = {
        path.name: ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(INTEGRATION.glob("*.py"))
    }
    # Helpers may be imported (fields.service_error), so they are known by name.
    helpers = {
        function.name
        for tree in trees.values()
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef)
        and function.args.args
        and any(
            keyword.arg == "translation_key"
            and isinstance(keyword.value, ast.Name)
            and keyword.value.id == function.args.args[0].arg
            for call in ast.walk(function)
            if isinstance(call, ast.Call)
            for keyword in call.keywords
        )
    }
    for file_name, tree in trees.items():
        constants = _module_constants(tree)
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            where = f"{file_name}:{call.lineno}"
            name = ast.unparse(call.func).rpartition(".")[2]
            keywords = {keyword.arg: keyword.value for keyword in call.keywords}
            if name in helpers and call.args:
                for key in _strings_of(call.args[0], constants):
                    yield "exceptions", key, where, set(keywords) - {None}  # type: ignore[misc]
                continue
            if "translation_key" not in keywords:
                continue
            section = "issues" if name.endswith("async_create_issue") else "exceptions"
            given = keywords.get("translation_placeholders")
            placeholders: set[str] | None = set()
            if isinstance(given, ast.Dict):
                placeholders = {
                    key.value for key in given.keys if isinstance(key, ast.Constant)
                }
            elif given is not None:
                placeholders = None  # built at run time: not checkable here
            for key in _strings_of(keywords["translation_key"], constants):
                yield section, key, where, placeholders


def test_every_translation_key_in_the_code_exists_with_matching_placeholders() -> None:
    """Errors and issues raised in code have messages, with the placeholders they get."""
    strings = _json("strings.json")
    found = list(_translated_errors())
    assert {section for section, *_ in found} == {"exceptions", "issues"}
    for section, key, where, placeholders in found:
        assert key in strings[section], f"{where}: {section}.{key} missing"
        text = strings[section][key]
        message = text["message"] if section == "exceptions" else text["description"]
        wanted = _placeholders(message) | (
            _placeholders(text["title"]) if section == "issues" else set()
        )
        if placeholders is None:
            continue
        assert wanted <= placeholders, f"{where}: {key} lacks {wanted - placeholders}"
        if section == "exceptions":
            assert placeholders <= wanted, (
                f"{where}: {key} ignores {placeholders - wanted}"
            )


def test_every_exception_and_issue_message_is_used() -> None:
    """No message in strings.json is left over from removed code."""
    strings = _json("strings.json")
    used = {(section, key) for section, key, _, _ in _translated_errors()}
    for section in ("exceptions", "issues"):
        for key in strings[section]:
            assert (section, key) in used, f"{section}.{key} is never raised"


def test_every_common_text_is_used() -> None:
    """Each text under "common" (Assist's replies) is looked up by the code."""
    code = "".join(
        path.read_text(encoding="utf-8") for path in INTEGRATION.glob("*.py")
    )
    for key in _json("strings.json")["common"]:
        assert f'"common.{key}"' in code, f"common.{key} is never used"


# --- services.yaml and icons.json (hassfest services.py and icons.py) ----------------


def test_services_yaml_passes_home_assistants_schema() -> None:
    """Home Assistant's own services.yaml schema accepts the file."""
    service._SERVICES_SCHEMA(_yaml("services.yaml"))


async def test_home_assistant_describes_every_registered_action(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """The registered actions are exactly those in services.yaml, and all load."""
    async_setup_services(hass)
    descriptions = await service.async_get_all_descriptions(hass)
    registered = set(hass.services.async_services_for_domain(DOMAIN))
    assert registered == set(_yaml("services.yaml"))
    for name in registered:
        assert descriptions[DOMAIN][name]["target"]
    assert "Unable to parse services.yaml" not in caplog.text


def test_every_action_and_field_has_strings() -> None:
    """Each action, its fields and selector options are translated (hassfest services)."""
    services = _yaml("services.yaml")
    strings = _json("strings.json")
    assert set(strings["services"]) == set(services)
    for name, spec in services.items():
        fields = (spec or {}).get("fields", {})
        assert set(strings["services"][name].get("fields", {})) == set(fields), name
        for field in fields.values():
            for selector in field.get("selector", {}).values():
                if key := (selector or {}).get("translation_key"):
                    options = strings["selector"][key]["options"]
                    assert set(options) == set(selector["options"]), key


ICONS_SCHEMA = vol.Schema(
    {
        vol.Optional("services"): _slug_keys(
            {
                vol.Required("service"): vol.Match(r"^mdi:[a-z0-9-]+$"),
                vol.Optional("sections"): _slug_keys(
                    vol.Match(r"^mdi:[a-z0-9-]+$"), _translation_key
                ),
            }
        ),
        vol.Optional("entity"): _slug_keys(
            _slug_keys(
                {
                    vol.Optional("default"): vol.Match(r"^mdi:[a-z0-9-]+$"),
                    vol.Optional("state"): _slug_keys(
                        vol.Match(r"^mdi:[a-z0-9-]+$"), _translation_key
                    ),
                    vol.Optional("state_attributes"): _slug_keys(
                        {
                            vol.Optional("default"): vol.Match(r"^mdi:[a-z0-9-]+$"),
                            vol.Optional("state"): _slug_keys(
                                vol.Match(r"^mdi:[a-z0-9-]+$"), _translation_key
                            ),
                        },
                        _translation_key,
                    ),
                },
                _translation_key,
            )
        ),
    }
)


def test_icons_json_has_an_icon_for_every_action() -> None:
    """icons.json passes hassfest's icon schema and covers services.yaml exactly."""
    icons = ICONS_SCHEMA(_json("icons.json"))
    assert set(icons["services"]) == set(_yaml("services.yaml"))


# --- quality_scale.yaml (hassfest quality_scale.py) ----------------------------------

# script/hassfest/quality_scale.py ALL_RULES, by tier.
QUALITY_SCALE_RULES: dict[str, list[str]] = {
    "bronze": [
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ],
    "gold": [
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}
ALL_RULES = [rule for rules in QUALITY_SCALE_RULES.values() for rule in rules]

QUALITY_SCALE_SCHEMA = vol.Schema(
    {
        vol.Required("rules"): vol.Schema(
            {
                vol.Optional(rule): vol.Any(
                    vol.In(["todo", "done"]),
                    vol.Schema(
                        {
                            vol.Required("status"): vol.In(["todo", "done"]),
                            vol.Required("comment"): str,
                        }
                    ),
                    vol.Schema(
                        {vol.Required("status"): "exempt", vol.Required("comment"): str}
                    ),
                )
                for rule in ALL_RULES
            }
        )
    }
)

# The README section that backs each docs-* rule marked done.
DOCS_SECTIONS = {
    "docs-actions": "## Actions",
    "docs-configuration-parameters": "## Options",
    "docs-data-update": "## How it stays in sync",
    "docs-examples": "## Automation examples",
    "docs-high-level-description": "## What it does",
    "docs-installation-instructions": "## Installation",
    "docs-installation-parameters": "## Google credentials",
    "docs-known-limitations": "## Known limitations",
    "docs-removal-instructions": "## Removal",
    "docs-supported-functions": "## What it does",
    "docs-troubleshooting": "## Troubleshooting",
    "docs-use-cases": "## Use cases",
}


def _statuses() -> dict[str, str]:
    """Return the status of each rule in quality_scale.yaml."""
    return {
        rule: value["status"] if isinstance(value, dict) else value
        for rule, value in _yaml("quality_scale.yaml")["rules"].items()
    }


def test_quality_scale_yaml_passes_hassfest_schema() -> None:
    """Every rule name is hassfest's and every exempt rule says why."""
    QUALITY_SCALE_SCHEMA(_yaml("quality_scale.yaml"))


def test_manifest_claims_the_tier_the_rules_reach() -> None:
    """Every rule up to the claimed tier is done or exempt; the next tier is not."""
    statuses = _statuses()
    assert set(statuses) == set(ALL_RULES)
    tiers = list(QUALITY_SCALE_RULES)
    claimed = tiers.index(_json("manifest.json")["quality_scale"])
    for tier in tiers[: claimed + 1]:
        todo = [rule for rule in QUALITY_SCALE_RULES[tier] if statuses[rule] == "todo"]
        assert not todo, f"{tier} claimed with {todo} to do"
    for tier in tiers[claimed + 1 : claimed + 2]:
        assert any(statuses[rule] == "todo" for rule in QUALITY_SCALE_RULES[tier]), (
            f"every {tier} rule is met: claim {tier}"
        )


def test_rules_marked_todo_or_exempt_say_why() -> None:
    """A rule not done carries the reason in a comment."""
    for rule, value in _yaml("quality_scale.yaml")["rules"].items():
        status = value["status"] if isinstance(value, dict) else value
        if status != "done":
            assert isinstance(value, dict) and value.get("comment"), rule


def test_rules_with_hassfest_validators_are_backed_by_code() -> None:
    """What hassfest checks itself for config-flow, runtime data, reconfigure, typing."""
    statuses = _statuses()
    config_flow = (INTEGRATION / "config_flow.py").read_text(encoding="utf-8")
    init = (INTEGRATION / "__init__.py").read_text(encoding="utf-8")
    assert statuses["config-flow"] == "done"
    assert _json("manifest.json")["config_flow"] is True
    assert "data_description" in _json("strings.json")["config"]["step"]["calendars"]
    assert statuses["runtime-data"] == "done"
    assert "entry.runtime_data = " in init
    assert "hass.data[DOMAIN]" not in init
    assert statuses["test-before-setup"] == "done"
    assert "ConfigEntryAuthFailed" in init
    assert "ConfigEntryNotReady" in init
    assert statuses["unique-config-entry"] == "done"
    assert "_abort_if_unique_id_configured" in config_flow
    assert statuses["reconfiguration-flow"] == "done"
    assert "async_step_reconfigure" in config_flow
    assert statuses["discovery"] == "exempt"
    # Exempt only because the requirements ship no py.typed; our code stays strict.
    assert statuses["strict-typing"] == "exempt"
    for name in ("google-api-python-client", "python-dateutil"):
        files = metadata.files(name) or []
        assert not [file for file in files if file.name == "py.typed"], name
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "mypy"
    ]
    assert mypy["strict"] is True
    assert f"custom_components/{DOMAIN}" in mypy["files"]


def test_platforms_set_parallel_updates() -> None:
    """parallel-updates: each entity platform module declares PARALLEL_UPDATES."""
    for platform in ("calendar", "event"):
        source = (INTEGRATION / f"{platform}.py").read_text(encoding="utf-8")
        assert re.search(r"^PARALLEL_UPDATES = \d+$", source, re.MULTILINE)


def test_docs_rules_are_backed_by_readme_sections() -> None:
    """Each docs-* rule marked done points at a README section that exists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    headings = {line.strip() for line in readme.splitlines() if line.startswith("## ")}
    statuses = _statuses()
    for rule, heading in DOCS_SECTIONS.items():
        if statuses[rule] == "done":
            assert heading in headings, f"{rule}: README lacks {heading!r}"


# --- README examples ------------------------------------------------------------------


def _readme_yaml_blocks() -> list[Any]:
    """Return every ```yaml block of the README, parsed."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return [
        yaml.safe_load(block)
        for block in re.findall(
            r"^ *```yaml\n(.*?)^ *```", readme, re.DOTALL | re.MULTILINE
        )
    ]


def test_readme_action_examples_pass_the_action_schemas() -> None:
    """Each README example calling one of our actions is valid input for it."""
    schemas = {
        "create_event": CREATE_EVENT_SCHEMA,
        "update_event": UPDATE_EVENT_SCHEMA,
        "delete_event": DELETE_EVENT_SCHEMA,
        "export_appointments": EXPORT_SCHEMA,
    }
    checked = set()
    for block in _readme_yaml_blocks():
        if not isinstance(block, dict) or not str(block.get("action", "")).startswith(
            f"{DOMAIN}."
        ):
            continue
        name = block["action"].removeprefix(f"{DOMAIN}.")
        assert set(block["target"]) == {"entity_id"}
        probatio.Schema(schemas[name])(block.get("data", {}))
        checked.add(name)
    assert checked == set(schemas)


def test_readme_voice_sentences_reach_the_intent() -> None:
    """The custom sentences in the README fill the intent's slots as documented."""
    [sentences] = [
        block
        for block in _readme_yaml_blocks()
        if isinstance(block, dict) and "intents" in block
    ]
    intents = Intents.from_dict(sentences)
    result = recognize(
        "add dentist to the family calendar at 15:30 for 45 minutes", intents
    )
    assert result is not None
    assert result.intent.name == INTENT_CREATE_EVENT
    assert {name: slot.value for name, slot in result.entities.items()} == {
        "summary": "dentist",
        "calendar": "family",
        "start": "15:30",
        "duration": 45,
    }
    alone = recognize("add dentist to my calendar at 15:30", intents)
    assert alone is not None
    assert set(alone.entities) == {"summary", "start"}


def test_demo_ships_the_readme_voice_sentences() -> None:
    """scripts/develop's configuration has README's sentences, where Assist reads them."""
    [sentences] = [
        block
        for block in _readme_yaml_blocks()
        if isinstance(block, dict) and "intents" in block
    ]
    shipped = ROOT / "config" / "custom_sentences" / "en" / f"{DOMAIN}.yaml"
    assert yaml.safe_load(shipped.read_text(encoding="utf-8")) == sentences
