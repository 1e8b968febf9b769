"""YAML written by users (protocol files, mapping files), read safely and within bounds.

PyYAML's `safe_load` already refuses to build Python objects, but it still
accepts what a configuration file of this tool never needs and what can hurt:
tags (`!!python/object`, `!custom`, `!!binary`), anchors and aliases (a
"billion laughs" file of a few hundred bytes expands to more than memory
holds when anything walks it), keys given twice (the last silently wins), and
files of any size. Here each of those is refused with a message naming the
file, and the answer comes in milliseconds.

Numbers are read as an extract writes them (`dictionary.NUMBER_PATTERN`): YAML 1.1 would also read `0x31`,
`061` (octal) and `1_000` as 49, 49 and 1000, and `1:30` as 90, where a user meant none of them. Those stay
text here, so a parameter given so is refused naming its value, and an item name stays as written. The file
itself is read as every file a user gives is (`oligo_cohort.user_files`): a folder, FIFO or broken link is
named, UTF-16 and NUL bytes are refused, a byte-order mark is dropped.

The package's own YAML files (data dictionary, clinical codes, model declarations) are not users' input:
`load_package_yaml` reads them with libyaml, fast, as every command reads them on start-up.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent, ScalarEvent

from oligo_cohort.errors import UsageError

MAX_BYTES = 256 * 1024  # a protocol file is some 2 KB
MAX_NODES = 10_000  # scalars, lists and mappings in one file


class _BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that refuses tags, anchors and aliases, duplicate keys, and more than MAX_NODES nodes."""

    nodes = 0

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        event = self.peek_event()
        if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor is not None):
            raise _Refused("anchors and aliases (&name, *name) are not allowed", event.start_mark)
        if isinstance(event, ScalarEvent | CollectionStartEvent) and event.tag not in (None, "!"):
            raise _Refused(f"YAML tags such as {event.tag} are not allowed", event.start_mark)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Refused(f"more than {MAX_NODES:,} values", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise _Refused("a key that is not a plain name", key_node.start_mark)
            if key in seen:
                raise _Refused(f"key {key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_BoundedLoader.add_constructor("tag:yaml.org,2002:map", _BoundedLoader.construct_mapping)

# Plain decimal numbers only (the number rule of the extract; YAML's `.inf` and `.nan` stay numbers, so that they
# are refused as numbers that are not finite): every other spelling YAML 1.1 reads as a number stays text.
_INT_TAG, _FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_BoundedLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_BoundedLoader.add_implicit_resolver(_INT_TAG, _INT, list("-+0123456789"))
_BoundedLoader.add_implicit_resolver(_FLOAT_TAG, _FLOAT, list("-+0123456789."))


def _decimal_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    return int(loader.construct_scalar(node))


def _decimal_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).lower()
    if text.endswith("inf"):
        return -math.inf if text.startswith("-") else math.inf
    return math.nan if text == ".nan" else float(text)


_BoundedLoader.add_constructor(_INT_TAG, _decimal_int)
_BoundedLoader.add_constructor(_FLOAT_TAG, _decimal_float)


class _Refused(yaml.YAMLError):
    def __init__(self, reason: str, mark: yaml.Mark | None) -> None:
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        super().__init__(reason + where)


def load_yaml_text(text: str, origin: str) -> object:
    """Parse YAML text safely and within bounds; `UsageError` naming `origin` when it is refused."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise UsageError(f"{origin}: larger than {MAX_BYTES // 1024} KiB: not a configuration file")
    loader = None
    try:
        loader = _BoundedLoader(text)  # refuses characters YAML does not allow (NUL, other control characters)
        return loader.get_single_data()
    except _Refused as exc:
        raise UsageError(f"{origin}: {exc}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{origin}: not valid YAML ({_one_line(exc)})") from None
    except (ValueError, OverflowError, RecursionError) as exc:  # e.g. an integer of thousands of digits
        raise UsageError(f"{origin}: a value cannot be read ({_one_line(exc)})") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml_file(path: Path, origin: str | None = None) -> object:
    """Read a user's YAML file: a regular file of at most MAX_BYTES, UTF-8 text, then `load_yaml_text`."""
    # Imported here: every command reads the package's own YAML through this module on start-up.
    from oligo_cohort.user_files import UserFileProblem, decode_text, file_bytes

    label = origin or str(path)
    try:
        data = file_bytes(path, text=True, size=MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise UsageError(f"{label}: larger than {MAX_BYTES // 1024} KiB: not a configuration file")
        text = decode_text(data, latin1=False).text
    except UserFileProblem as exc:
        raise UsageError(f"{label}: {exc.reason}") from None
    return load_yaml_text(text, label)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def load_package_yaml(path: Path) -> object:
    """Read one of the package's own YAML files (the data dictionary, clinical codes, SQL model declarations).

    These ship with the tool and are not a user's input, so the bounds above do not apply; they are parsed with
    libyaml's safe loader where PyYAML has it, ten times faster than the pure-Python one, which matters because
    every screen reads them on start-up.
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
