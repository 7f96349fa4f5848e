"""Reading the config's YAML text: one-line :class:`kpi.errors.ConfigError` for every problem.

The loader is PyYAML's SafeLoader with four changes:

- YAML 1.2 booleans: only ``true`` / ``false`` (``no``, ``on``, ``yes`` stay text);
- an impossible date (``2025-13-01``) stays text, so validation can name it;
- a key written twice in one mapping is refused;
- aliases (``*name``) are refused when the parser meets the first one, before anything is
  composed: a programme config needs none, and nested aliases (an "alias bomb") would otherwise
  expand into billions of values.

Import-light (pyyaml only): :mod:`kpi.config` uses it at CLI start-up.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from kpi.errors import ConfigError

__all__ = ["dump_yaml", "parse_yaml"]


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, first: int, second: int):
        super().__init__(key)
        self.key, self.first, self.second = key, first, second


class _AliasRefused(yaml.YAMLError):
    def __init__(self, alias: str, line: int):
        super().__init__(alias)
        self.alias, self.line = alias, line


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans, invalid dates kept as text, duplicate keys and
    aliases refused."""

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        # Refuse at the parser's event, before the composer looks the anchor up: nothing an
        # alias points at is ever copied, however deeply aliases are nested.
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _AliasRefused(event.anchor, event.start_mark.line + 1)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:  # type: ignore[override]
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKey(key, seen[key], line)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def parse_yaml(text: str, source: str) -> Any:
    """The YAML document in ``text`` as Python values; ``source`` names the file in errors."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        raise ConfigError(
            f"{source}: key '{exc.key}' appears twice in the same mapping "
            f"(lines {exc.first} and {exc.second}); keep one"
        ) from None
    except _AliasRefused as exc:
        raise ConfigError(
            f"{source}: line {exc.line}: YAML aliases (*{exc.alias}) are not allowed in the "
            "config; write the value out"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{source}: not valid YAML{where}: {problem}; check the indentation and quoting there"
        ) from None


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes a value used twice out twice (no ``&anchor`` / ``*alias``), so
    what it writes is a config :func:`parse_yaml` accepts."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(data: Any, **options: Any) -> str:
    """``data`` as YAML text without aliases; ``options`` as for :func:`yaml.dump`."""
    return yaml.dump(data, Dumper=_Dumper, **options)
