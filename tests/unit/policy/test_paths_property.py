"""Property: whatever mix of dots, separators and encodings, an accepted path stays inside.

The oracle is independent of the implementation's candidate list: it fully decodes the
value, takes backslashes as separators and normalizes once, which is the most aggressive
reading an upstream could apply.
"""

import posixpath
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from mcpwarden.policy.paths import PathPrefix

PREFIX = PathPrefix.compile("/srv/docs")
TOKENS = ["a", "b", "..", ".", "/", "\\", "%2e", "%2f", "%5c", "%25", "2e", "2f", "5c", "%", "docs", "srv"]


def most_aggressive_reading(value: str) -> str:
    for _ in range(10):
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    path = posixpath.normpath(value.replace("\\", "/"))
    while path.startswith("//"):
        path = path[1:]
    return path


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=14))
def test_accepted_paths_stay_inside_under_every_reading(tokens: list[str]) -> None:
    value = "/srv/docs/" + "".join(tokens)
    if PREFIX.check(value) is None:
        for reading in (most_aggressive_reading(value), posixpath.normpath(value)):
            assert reading == "/srv/docs" or reading.startswith("/srv/docs/"), (value, reading)
