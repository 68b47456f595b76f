"""Package references in launch commands: what `npx`, `uvx`, `pipx` and `docker run` fetch.

A server launched through a package runner is code downloaded at start-up. Whether the
version is fixed decides whether tomorrow's start runs the code that was reviewed today,
so each reference records the version as written and whether it pins one release.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import re2
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mcpwarden.scan.launch import Segment, exe_name

Ecosystem = Literal["npm", "pypi", "docker", "git"]

_SEMVER_EXACT = re2.compile(
    r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)
_GIT_SHA = re2.compile(r"#[0-9a-fA-F]{40}$")
_DIGEST = re2.compile(r"@sha256:[0-9a-f]{64}$")
_NPM_NAME = re2.compile(r"^(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9._~-][a-z0-9._~-]*$")
_PY_UVX_AT = re2.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?@(.+)$")

NPM_RUNNERS = frozenset({"npx", "bunx", "pnpx"})
# Runner options that take a value, so the value is not mistaken for the package.
_NPX_VALUE_OPTS = frozenset(
    {"--registry", "--cache", "--userconfig", "--node-options", "--prefix", "-w", "--workspace"}
)
_UV_VALUE_OPTS = frozenset(
    {
        "--from",
        "--with",
        "-w",
        "--with-editable",
        "--with-requirements",
        "-p",
        "--python",
        "--index",
        "--index-url",
        "-i",
        "--extra-index-url",
        "--default-index",
        "-f",
        "--find-links",
        "--directory",
        "--project",
        "--config-file",
        "--cache-dir",
        "--prerelease",
        "--resolution",
        "--index-strategy",
        "--keyring-provider",
        "--exclude-newer",
        "--python-platform",
        "-c",
        "--constraints",
        "--overrides",
        "--env-file",
    }
)
_PIPX_VALUE_OPTS = frozenset({"--spec", "--python", "--pip-args", "--index-url", "-i", "--backend"})


@dataclass(frozen=True, slots=True)
class PackageRef:
    ecosystem: Ecosystem
    name: str
    version: str | None  # as written: "1.2.3", "latest", "^1.2", ">=0.3", a tag or digest
    spec: str
    launcher: str
    field: str  # config field that holds the spec, e.g. "args.1"
    pinned: bool
    floating_tag: bool = False  # an explicit moving tag such as `latest`

    @property
    def exact_version(self) -> str | None:
        """The single release this reference resolves to, when it pins one."""
        if not self.pinned or self.version is None:
            return None
        if self.ecosystem == "pypi":
            return self.version.lstrip("=")
        return self.version


def parse_npm_spec(spec: str) -> tuple[str, str | None] | None:
    """`@scope/name@1.2.3` -> (`@scope/name`, `1.2.3`); None for paths, URLs and git refs."""
    if spec.startswith(("@",)):
        scope_end = spec.find("/")
        if scope_end < 0:
            return None
        at = spec.find("@", scope_end)
    else:
        if "/" in spec or ":" in spec or spec.startswith((".", "~")):
            return None
        at = spec.find("@")
    name, version = (spec, None) if at < 0 else (spec[:at], spec[at + 1 :] or None)
    if not _NPM_NAME.match(name.lower()):
        return None
    return name, version


def _npm_ref(spec: str, launcher: str, field: str) -> PackageRef | None:
    if spec.startswith(("github:", "git+", "git:", "gitlab:", "bitbucket:")) or (
        "/" in spec and not spec.startswith(("@", ".", "/", "~")) and ":" not in spec
    ):
        return PackageRef("git", spec, None, spec, launcher, field, bool(_GIT_SHA.search(spec)))
    parsed = parse_npm_spec(spec)
    if parsed is None:
        return None
    name, version = parsed
    pinned = version is not None and bool(_SEMVER_EXACT.match(version))
    return PackageRef("npm", name, version, spec, launcher, field, pinned, floating_tag=version == "latest")


def _pypi_ref(spec: str, launcher: str, field: str) -> PackageRef | None:
    m = _PY_UVX_AT.match(spec)
    if m is not None:  # uvx's `name@version` form
        version = m.group(3)
        return PackageRef(
            "pypi",
            canonicalize_name(m.group(1)),
            version,
            spec,
            launcher,
            field,
            pinned=version != "latest" and all(c not in version for c in "<>=!~*,"),
            floating_tag=version == "latest",
        )
    try:
        req = Requirement(spec)
    except InvalidRequirement:
        return None
    if req.url:
        return PackageRef(
            "git",
            spec,
            None,
            spec,
            launcher,
            field,
            bool(_GIT_SHA.search(req.url)) or "@" in req.url.rsplit("/", 1)[-1],
        )
    specs = list(req.specifier)
    exact = len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version
    written = specs[0].version if exact else (str(req.specifier) or None)
    return PackageRef("pypi", canonicalize_name(req.name), written, spec, launcher, field, exact)


def _first_positional(
    argv: tuple[str, ...], start: int, value_opts: frozenset[str]
) -> tuple[int | None, dict[str, list[tuple[int, str]]]]:
    """Index of the first non-option token from `start`, and the option values seen before it."""
    options: dict[str, list[tuple[int, str]]] = {}
    j = start
    while j < len(argv):
        token = argv[j]
        if token == "--":
            return (j + 1 if j + 1 < len(argv) else None), options
        if token.startswith("-") and len(token) > 1:
            name, eq, value = token.partition("=")
            if eq:
                options.setdefault(name, []).append((j, value))
            elif name in value_opts and j + 1 < len(argv):
                options.setdefault(name, []).append((j + 1, argv[j + 1]))
                j += 1
            else:
                options.setdefault(name, []).append((j, ""))
            j += 1
            continue
        return j, options
    return None, options


def _npm_packages(seg: Segment, start: int, launcher: str) -> tuple[list[PackageRef], int | None]:
    value_opts = _NPX_VALUE_OPTS | {"-p", "--package", "-c", "--call"}
    pos, options = _first_positional(seg.argv, start, value_opts)
    explicit = options.get("-p", []) + options.get("--package", [])
    refs: list[PackageRef] = []
    for idx, spec in explicit:
        ref = _npm_ref(spec, launcher, seg.field_of(idx))
        if ref is not None:
            refs.append(ref)
    if not explicit and pos is not None:
        ref = _npm_ref(seg.argv[pos], launcher, seg.field_of(pos))
        if ref is not None:
            refs.append(ref)
    return refs, pos


def _uv_packages(seg: Segment, start: int, launcher: str) -> tuple[list[PackageRef], int | None]:
    pos, options = _first_positional(seg.argv, start, _UV_VALUE_OPTS)
    refs: list[PackageRef] = []
    from_spec = options.get("--from", [])
    for idx, spec in from_spec:
        ref = _pypi_ref(spec, launcher, seg.field_of(idx))
        if ref is not None:
            refs.append(ref)
    if not from_spec and pos is not None:
        ref = _pypi_ref(seg.argv[pos], launcher, seg.field_of(pos))
        if ref is not None:
            refs.append(ref)
    for idx, spec in options.get("--with", []) + options.get("-w", []):
        for part in spec.split(","):
            ref = _pypi_ref(part.strip(), launcher, seg.field_of(idx))
            if ref is not None:
                refs.append(ref)
    return refs, pos


def _pipx_packages(seg: Segment, start: int) -> tuple[list[PackageRef], int | None]:
    pos, options = _first_positional(seg.argv, start, _PIPX_VALUE_OPTS)
    specs = options.get("--spec", [])
    if not specs and pos is not None:
        specs = [(pos, seg.argv[pos])]
    refs = [r for idx, s in specs if (r := _pypi_ref(s, "pipx run", seg.field_of(idx))) is not None]
    return refs, pos


def segment_packages(seg: Segment) -> tuple[list[PackageRef], int | None]:
    """Packages one segment fetches, and the index of the token after which the server's
    own arguments start (None when the segment is not a package runner)."""
    argv = seg.argv
    if not argv:
        return [], None
    prog = exe_name(argv[0])
    sub = argv[1] if len(argv) > 1 else ""
    if prog in NPM_RUNNERS:
        return _npm_packages(seg, 1, prog)
    if (
        (prog == "npm" and sub in ("exec", "x"))
        or (prog in ("pnpm", "yarn") and sub == "dlx")
        or (prog == "bun" and sub == "x")
    ):
        return _npm_packages(seg, 2, f"{prog} {sub}")
    if prog == "uvx":
        return _uv_packages(seg, 1, "uvx")
    if prog == "uv" and sub == "tool" and len(argv) > 2 and argv[2] == "run":
        return _uv_packages(seg, 3, "uv tool run")
    if prog == "uv" and sub == "run":
        _, options = _first_positional(argv, 2, _UV_VALUE_OPTS)
        refs = [
            r
            for idx, spec in options.get("--with", []) + options.get("-w", [])
            if (r := _pypi_ref(spec, "uv run", seg.field_of(idx))) is not None
        ]
        return refs, None
    if prog == "pipx" and sub == "run":
        return _pipx_packages(seg, 2)
    return [], None


def image_ref(image: str, field: str, launcher: str) -> PackageRef:
    """A container image reference: pinned only by digest, since tags can be re-pushed."""
    digest = _DIGEST.search(image)
    base = image[: digest.start()] if digest else image
    slash = base.rfind("/")
    colon = base.rfind(":")
    tag = base[colon + 1 :] if colon > slash else None
    name = base[:colon] if colon > slash else base
    version = image[digest.start() + 1 :] if digest else tag
    return PackageRef(
        "docker",
        name,
        version,
        image,
        launcher,
        field,
        pinned=digest is not None,
        floating_tag=tag in (None, "latest"),
    )
