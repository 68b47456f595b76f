"""Matching a URI against an RFC 6570 URI template without building a regex from it.

The template comes from an upstream, so it is attacker-controlled; matching walks its
literal parts instead of compiling it.
"""

from __future__ import annotations


def template_matches(template: str, uri: str) -> bool:
    """Whether `uri` can be an expansion of the RFC 6570 `template`.

    The literal parts between `{...}` expressions must appear in order, the first at the
    start and the last at the end; an expression may expand to anything. Linear in the
    lengths, with no regular expression built from the upstream's text.
    """
    literals: list[str] = []
    pos = 0
    while True:
        start = template.find("{", pos)
        if start < 0:
            literals.append(template[pos:])
            break
        literals.append(template[pos:start])
        end = template.find("}", start)
        if end < 0:
            return False
        pos = end + 1
    if len(literals) == 1:
        return uri == literals[0]
    first, last = literals[0], literals[-1]
    if not uri.startswith(first) or not uri.endswith(last) or len(uri) < len(first) + len(last):
        return False
    at = len(first)
    stop = len(uri) - len(last)
    for lit in literals[1:-1]:
        found = uri.find(lit, at, stop)
        if found < 0:
            return False
        at = found + len(lit)
    return True
