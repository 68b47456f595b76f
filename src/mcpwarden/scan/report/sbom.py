"""A CycloneDX SBOM of the configured MCP servers.

Packages fetched by runners become components with package URLs (`pkg:npm/…`,
`pkg:pypi/…`, `pkg:docker/…`); remote servers become services with their endpoint;
locally installed commands become application components without a purl. Each entry
records where it was configured (client, file, server name) as properties, so an
inventory can be traced back to the config that introduced it.
"""

from __future__ import annotations

from cyclonedx.model import Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.service import Service
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from mcpwarden import __version__
from mcpwarden.scan.analysis import analyze
from mcpwarden.scan.checks import masked_view
from mcpwarden.scan.model import ServerEntry
from mcpwarden.scan.packages import PackageRef
from mcpwarden.scan.runner import ScanReport


def purl_of(ref: PackageRef) -> PackageURL | None:
    version = ref.exact_version if ref.ecosystem != "docker" else ref.version
    if ref.ecosystem == "npm":
        scope, _, name = ref.name.rpartition("/")
        return PackageURL(type="npm", namespace=scope or None, name=name, version=version)
    if ref.ecosystem == "pypi":
        return PackageURL(type="pypi", name=ref.name, version=version)
    if ref.ecosystem == "docker":
        return _docker_purl(ref.name, version)
    return None


def _docker_purl(image: str, version: str | None) -> PackageURL:
    parts = image.split("/")
    registry = None
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, parts = parts[0], parts[1:]
    name = parts[-1]
    namespace = "/".join(parts[:-1]) or ("library" if registry is None else None)
    qualifiers = {"repository_url": registry} if registry else None
    return PackageURL(type="docker", namespace=namespace, name=name, version=version, qualifiers=qualifiers)


def _where(entry: ServerEntry) -> list[Property]:
    props = [
        Property(name="mcpwarden:client", value=entry.client),
        Property(name="mcpwarden:config", value=str(entry.file)),
        Property(name="mcpwarden:server", value=entry.name),
        Property(name="mcpwarden:transport", value=entry.transport),
    ]
    if entry.scope:
        props.append(Property(name="mcpwarden:scope", value=entry.scope))
    return props


def build_bom(report: ScanReport) -> Bom:
    bom = Bom()
    # Since CycloneDX 1.5 the generating tool is named as a component.
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="mcpwarden", version=__version__)
    )
    components: dict[str, Component] = {}
    for entry in report.servers:
        if entry.command is None:
            _, url = masked_view(entry)
            bom.services.add(
                Service(
                    name=entry.name,
                    bom_ref=f"service:{entry.key}",
                    endpoints=[XsUri(url or "")],
                    authenticated=bool(entry.headers) or None,
                    x_trust_boundary=True,
                    properties=_where(entry),
                )
            )
            continue
        refs = analyze(entry).all_packages
        if not refs:
            components[f"app:{entry.key}"] = Component(
                type=ComponentType.APPLICATION,
                name=entry.name,
                bom_ref=f"app:{entry.key}",
                description=f"locally installed command {entry.command}",
                properties=_where(entry),
            )
            continue
        for ref in refs:
            purl = purl_of(ref)
            key = purl.to_string() if purl is not None else f"ref:{ref.spec}"
            existing = components.get(key)
            if existing is not None:
                for prop in _where(entry):
                    existing.properties.add(prop)
                continue
            components[key] = Component(
                type=ComponentType.CONTAINER if ref.ecosystem == "docker" else ComponentType.APPLICATION,
                name=ref.name,
                version=ref.exact_version if ref.ecosystem != "docker" else ref.version,
                purl=purl,
                bom_ref=key,
                description=f"started with {ref.launcher}" + ("" if ref.pinned else " (version not pinned)"),
                properties=_where(entry),
            )
    for component in components.values():
        bom.components.add(component)
    return bom


def render_sbom(report: ScanReport) -> str:
    return JsonV1Dot6(build_bom(report)).output_as_string(indent=2) + "\n"
