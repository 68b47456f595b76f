"""Everything the static checks need to know about one server, computed once."""

from __future__ import annotations

from dataclasses import dataclass

from mcpwarden.scan.container import ContainerRun, parse_container_run
from mcpwarden.scan.launch import Launch, Segment, analyze_launch, exe_name
from mcpwarden.scan.model import ServerEntry
from mcpwarden.scan.packages import PackageRef, segment_packages


@dataclass(frozen=True, slots=True)
class ProgramArgs:
    """The arguments a launched program receives, with the segment they came from."""

    program: str  # package name, image name or executable
    segment: Segment
    start: int  # index in segment.argv of the first argument
    in_container: bool = False

    @property
    def args(self) -> tuple[str, ...]:
        return self.segment.argv[self.start :]


@dataclass(frozen=True, slots=True)
class ServerAnalysis:
    entry: ServerEntry
    launch: Launch | None
    packages: tuple[PackageRef, ...]
    containers: tuple[ContainerRun, ...]
    programs: tuple[ProgramArgs, ...]

    @property
    def all_packages(self) -> list[PackageRef]:
        """Registry packages and container images together."""
        return [*self.packages, *(c.image for c in self.containers)]


def analyze(entry: ServerEntry) -> ServerAnalysis:
    if entry.command is None:
        return ServerAnalysis(entry, None, (), (), ())
    launch = analyze_launch(entry.command, entry.args)
    packages: list[PackageRef] = []
    containers: list[ContainerRun] = []
    programs: list[ProgramArgs] = []
    for seg in launch.segments:
        container = parse_container_run(seg)
        if container is not None:
            containers.append(container)
            programs.append(
                ProgramArgs(container.image.name, seg, container.command_start, in_container=True)
            )
            continue
        refs, pos = segment_packages(seg)
        packages.extend(refs)
        if pos is not None:
            name = refs[0].name if refs else seg.argv[pos]
            programs.append(ProgramArgs(name, seg, pos + 1))
        elif seg.argv:
            programs.append(ProgramArgs(exe_name(seg.argv[0]), seg, 1))
    return ServerAnalysis(entry, launch, tuple(packages), tuple(containers), tuple(programs))
