"""Jurisdictions as a tree: pure, used by the catalogue validator, the loader, the engine and
the catalogue API alike."""

from collections.abc import Mapping


def ancestors(code: str, parents: Mapping[str, str | None]) -> list[str]:
    """The code and every jurisdiction above it, nearest first: a Lingang company is under
    Shanghai and national rules too. The walk stops at the top, at a code it does not know, and
    at a loop (which the catalogue validator refuses, but a walk must not hang on)."""
    chain = [code]
    current = parents.get(code)
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain
