"""Packages whose `__init__` re-exports names lazily (see mcpwarden.lazy) still export them all,
and importing one submodule no longer pays for the heavy ones."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

LAZY_PACKAGES = ("mcpwarden.auth", "mcpwarden.detect.text")


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_star_import_binds_every_name_in_all(package: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {package} import *", namespace)
    assert set(importlib.import_module(package).__all__) <= set(namespace)


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_an_unknown_name_raises_attribute_error(package: str) -> None:
    module = importlib.import_module(package)
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018


def test_the_config_model_loads_without_numpy_or_the_http_stack() -> None:
    code = "import sys, json, mcpwarden.config; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = {m.split(".")[0] for m in json.loads(done.stdout)}
    assert loaded & {"numpy", "onnxruntime", "sklearn", "httpx", "joserfc", "cryptography"} == set()
