"""Reading ``sources.yaml``: YAML with line numbers, and one reader for every mapping in it
(the top level, each entry, each block), so that every error names file, line, entry and field."""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import ConfigError
from ..urls import is_http_url

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class LineDict(dict[str, Any]):
    """A mapping that remembers the line it started on in the YAML file."""

    line: int = 0


class Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ConfigError(
                f"duplicate key {key!r}",
                path=loader.name,
                line=key_node.start_mark.line + 1,
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class Reader:
    """Reads one mapping with context, so every error says where it is."""

    def __init__(self, path: str, entry: str, data: Any) -> None:
        self.path = path
        self.entry = entry
        if not isinstance(data, dict):
            raise ConfigError(f"expected a mapping (key: value), got {kind_of(data)}", path=path, entry=entry)
        self.data = data
        self.line = getattr(data, "line", None)

    def error(self, message: str, fld: str | None = None) -> ConfigError:
        return ConfigError(message, path=self.path, entry=self.entry, field=fld, line=self.line)

    def check_keys(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.error(f"unknown key (allowed: {', '.join(sorted(allowed))})", str(key))

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise self.error("is required", key)
            return default
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise self.error(f"expected text, got {kind_of(value)}", key)
        return str(value).strip()

    def url(self, key: str, *, required: bool = False) -> str:
        value = self.text(key, required=required)
        if value and not is_http_url(value):
            raise self.error(f"{value!r} is not an http(s) URL: write it as https://…", key)
        return value

    def ident(self, key: str = "id") -> str:
        value = self.text(key, required=True)
        if not ID_RE.match(value):
            raise self.error(
                f"{value!r} is not a valid id: use lower-case letters, digits, '-', '_' or '.'",
                key,
            )
        return value

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"expected a number, got {kind_of(value)}", key)
        if value < minimum:
            raise self.error(f"must be at least {minimum:g}", key)
        return float(value)

    def integer(self, key: str, default: int | None, *, minimum: int = 0) -> int | None:
        value = self.data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected a whole number, got {kind_of(value)}", key)
        if value < minimum:
            raise self.error(f"must be at least {minimum}", key)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, got {kind_of(value)}", key)
        return value

    def str_list(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error("expected a list of text values", key)
        return tuple(v.strip() for v in value if v.strip())

    def integer_in(self, key: str, default: int, low: int, high: int) -> int:
        """A whole number between ``low`` and ``high``."""
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected a whole number, got {kind_of(value)}", key)
        if not low <= value <= high:
            raise self.error(f"must be between {low} and {high}", key)
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...], message: str | None = None) -> str:
        value = self.data.get(key, default)
        if value not in choices:
            raise self.error(message or f"expected one of {', '.join(choices)}", key)
        return str(value)


def kind_of(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number"}.get(
        type(value) if not isinstance(value, dict) else dict, type(value).__name__
    )
