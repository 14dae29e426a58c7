"""Stripe's form encoding: ``a[b][0][c]=x`` in, nested dicts and lists out.

Stripe's SDKs send every parameter as ``application/x-www-form-urlencoded`` with
bracketed keys; lists are indexed (``items[0][price]``) or appended (``expand[]``).
The fake decodes them back into the JSON-like structure the SDK started from, so
the state code and recorded requests read like Stripe's API reference.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY_PART = re.compile(r"\[([^\[\]]*)\]")


def parse_form(body: str) -> dict[str, Any]:
    """Decode a Stripe form body or query string into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        _assign(root, _split_key(key), value)
    return _lists_from_indexed_dicts(root)


def _split_key(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    return [head, *_KEY_PART.findall(bracket + rest)]


def _assign(node: dict[str, Any], parts: list[str], value: str) -> None:
    *parents, last = parts
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"Parameter {'['.join(parts)} mixes a value and a hash.")
    if last == "":
        # ``expand[]=a&expand[]=b``: an appended list, kept as a dict of positions
        # until the end so indexed and appended lists are handled the same way.
        last = str(len(node))
    node[last] = value


def _lists_from_indexed_dicts(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    converted = {key: _lists_from_indexed_dicts(item) for key, item in value.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted
