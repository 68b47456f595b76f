"""Classifying host paths that a server is given: the root, a home folder, credentials."""

from __future__ import annotations

from pathlib import Path

import re2

_HOME_TOKENS = frozenset(
    {"~", "$home", "${home}", "%userprofile%", "%homepath%", "$env:userprofile", "/root"}
)
_HOME_DIR = re2.compile(r"(?i)^(/home/[^/]+|/Users/[^/]+|[A-Za-z]:[\\/]Users[\\/][^\\/]+)$")
_ROOTS = re2.compile(r"^(/|[A-Za-z]:[\\/]?|\\\\|//)$")
_CREDENTIAL_DIRS = (
    ".ssh",
    ".aws",
    ".gnupg",
    ".kube",
    ".docker",
    ".azure",
    ".netrc",
    ".config/gcloud",
    ".password-store",
)
_DOCKER_SOCKETS = frozenset(
    {"/var/run/docker.sock", "/run/docker.sock", "//./pipe/docker_engine", "/run/podman/podman.sock"}
)
_SYSTEM_DIRS = frozenset({"/etc", "/var", "/proc", "/sys", "/boot", "/dev", "/usr", "/bin", "/sbin", "/lib"})


def _clean(path: str) -> str:
    p = path.strip().strip("'\"")
    if len(p) > 1:
        p = p.rstrip("/\\") or p[:1]
    return p


def _home_relative(p: str, home: Path | None) -> str | None:
    """The part after the home folder (`""` for the home itself), or None if not under it."""
    lowered = p.lower()
    for token in sorted(_HOME_TOKENS, key=len, reverse=True):
        if lowered == token:
            return ""
        if lowered.startswith(token + "/") or lowered.startswith(token + "\\"):
            return p[len(token) + 1 :]
    if home is not None:
        h = str(home).rstrip("/\\")
        if p == h:
            return ""
        if p.startswith(h + "/") or p.startswith(h + "\\"):
            return p[len(h) + 1 :]
    m = _HOME_DIR.match(p)
    if m is not None:
        return ""
    for prefix in ("/home/", "/Users/"):
        if p.startswith(prefix) and p.count("/") >= 3:
            return p.split("/", 3)[3]
    return None


def classify_path(path: str, home: Path | None) -> str | None:
    """ "root", "home", "credentials", "docker-socket" or "system" for risky paths, else None."""
    p = _clean(path)
    if not p:
        return None
    if _ROOTS.match(p):
        return "root"
    if p in _DOCKER_SOCKETS or p.endswith("/docker.sock"):
        return "docker-socket"
    rel = _home_relative(p, home)
    if rel is not None:
        if rel == "":
            return "home"
        rel_posix = rel.replace("\\", "/")
        if any(rel_posix == d or rel_posix.startswith(d + "/") for d in _CREDENTIAL_DIRS):
            return "credentials"
        return None
    if p in _SYSTEM_DIRS:
        return "system"
    return None
