"""Licences of published packages, for scripts/collect_real_docs.py: which licence a package's
metadata or LICENSE file states (as an SPDX id) and whether it lets the project redistribute
README text as training data (permissive only). A module of its own because recognising
free-form licence fields is a job apart from downloading and splitting READMEs.
"""

from __future__ import annotations

import re
from typing import Any

PERMISSIVE = ("MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "MPL-2.0")


def normalize_licence(value: str) -> str:
    """An SPDX id (or expression) from free-form metadata; '' when none."""
    text = value.strip()
    if not text or text.upper() in {"UNKNOWN", "NONE", "UNLICENSED"}:
        return ""
    if len(text) > 80:  # a whole licence text in the field: recognise the common ones
        head = text[:400].lower()
        if "permission is hereby granted, free of charge" in text.lower() or head.startswith("mit license"):
            return "MIT"
        if "apache license" in head and "version 2.0" in head:
            return "Apache-2.0"
        if "redistribution and use in source and binary forms" in text.lower():
            return "BSD-3-Clause" if "neither the name" in text.lower() else "BSD-2-Clause"
        return text[:60] + "..."
    aliases = {
        "mit": "MIT",
        "mit license": "MIT",
        "the mit license": "MIT",
        "apache 2.0": "Apache-2.0",
        "apache-2.0": "Apache-2.0",
        "apache license 2.0": "Apache-2.0",
        "apache license, version 2.0": "Apache-2.0",
        "apache software license": "Apache-2.0",
        "apache 2": "Apache-2.0",
        "bsd": "BSD-3-Clause",
        "bsd license": "BSD-3-Clause",
        "isc": "ISC",
        "mpl-2.0": "MPL-2.0",
    }
    return aliases.get(text.lower(), text)


def permissive(licence: str) -> bool:
    """Permissive: one of PERMISSIVE; an OR expression needs one such, an AND expression all."""
    if not licence:
        return False
    expr = licence.removesuffix(" (LICENSE file)").strip("()")
    if " OR " in expr:
        return any(permissive(p) for p in expr.split(" OR "))
    if " AND " in expr:
        return all(permissive(p) for p in expr.split(" AND "))
    return expr in PERMISSIVE


CLASSIFIERS = {
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: Apache Software License": "Apache-2.0",
    "License :: OSI Approved :: BSD License": "BSD-3-Clause",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
}


def licence_of_metadata(meta: Any) -> str:
    """Licence of a PKG-INFO / METADATA message: License-Expression, License, then classifiers."""
    for key in ("License-Expression", "License"):
        value = normalize_licence(meta.get(key) or "")
        if value:
            return value
    for classifier in meta.get_all("Classifier") or []:
        if classifier in CLASSIFIERS:
            return CLASSIFIERS[classifier]
        if classifier.startswith("License ::"):
            return classifier
    return ""


LICENCE_NAMES = re.compile(r"^(licen[cs]e|copying)(\.(md|txt|rst))?$", re.IGNORECASE)


def licence_of_file(text: str) -> str:
    """The licence a LICENSE file's text states (the common permissive ones only); '' if unknown."""
    found = normalize_licence(text if len(text) > 80 else "")
    return "" if found.endswith("...") else found


def licence_files(names: list[str], read: Any) -> str:
    """The licence of the first LICENSE/COPYING file among `names` (archive paths) it recognises."""
    for name in sorted(names):
        if LICENCE_NAMES.match(name.rsplit("/", 1)[-1]):
            found = licence_of_file(read(name).decode("utf-8", "replace"))
            if found:
                return found
    return ""
