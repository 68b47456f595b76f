"""`docker run` / `podman run` command lines: the image and the options around it.

The options decide how far the server reaches into the host (privileges, namespaces,
mounts), so they are kept with their positions for the launch-flag checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpwarden.scan.launch import Segment, exe_name
from mcpwarden.scan.packages import PackageRef, image_ref

CONTAINER_CLIS = frozenset({"docker", "podman", "nerdctl", "finch"})

# `docker run` options that take a value (short and long forms). Anything else that
# starts with a dash is treated as a flag, which is right for the boolean options.
_VALUE_OPTS = frozenset(
    {
        "-e", "--env", "--env-file", "-v", "--volume", "--mount", "--network", "--net", "-p", "--publish",
        "--name", "-w", "--workdir", "-u", "--user", "--entrypoint", "--cap-add", "--cap-drop",
        "--security-opt", "--device", "-l", "--label", "--label-file", "--platform", "--pull", "-m",
        "--memory", "--cpus", "-h", "--hostname", "--add-host", "--ipc", "--pid", "--userns", "--uts",
        "--restart", "--log-driver", "--log-opt", "--tmpfs", "--ulimit", "--gpus", "--runtime",
        "--volumes-from", "--cgroupns", "--cgroup-parent", "--dns", "--mac-address", "--ip", "--ip6",
        "--shm-size", "--stop-signal", "--stop-timeout", "--health-cmd", "--group-add", "--expose",
        "--link", "--network-alias", "--isolation", "--cidfile", "--sysctl", "--pids-limit",
        "--memory-swap", "--cpu-shares", "-c", "--cpuset-cpus", "--detach-keys", "--attach", "-a",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ContainerOption:
    flag: str
    value: str | None
    field: str


@dataclass(frozen=True, slots=True)
class ContainerRun:
    cli: str
    image: PackageRef
    options: tuple[ContainerOption, ...]
    command_args: tuple[str, ...]
    command_start: int  # argv index of the first token after the image

    def values(self, *flags: str) -> list[ContainerOption]:
        return [o for o in self.options if o.flag in flags]


def parse_container_run(seg: Segment) -> ContainerRun | None:
    argv = seg.argv
    if not argv or exe_name(argv[0]) not in CONTAINER_CLIS:
        return None
    j = 1
    if j < len(argv) and argv[j] == "container":
        j += 1
    if j >= len(argv) or argv[j] != "run":
        return None
    j += 1
    options: list[ContainerOption] = []
    while j < len(argv):
        token = argv[j]
        if token == "--":
            j += 1
            break
        if not token.startswith("-") or token == "-":
            break
        name, eq, value = token.partition("=")
        if eq:
            options.append(ContainerOption(name, value, seg.field_of(j)))
        elif name in _VALUE_OPTS and j + 1 < len(argv):
            options.append(ContainerOption(name, argv[j + 1], seg.field_of(j + 1)))
            j += 1
        elif not name.startswith("--") and len(name) > 2:
            # Combined short flags (`-it`, `-itv /:/host` is not valid docker syntax).
            options.extend(ContainerOption(f"-{c}", None, seg.field_of(j)) for c in name[1:])
        else:
            options.append(ContainerOption(name, None, seg.field_of(j)))
        j += 1
    if j >= len(argv):
        return None
    cli = exe_name(argv[0])
    image = image_ref(argv[j], seg.field_of(j), f"{cli} run")
    return ContainerRun(cli, image, tuple(options), tuple(argv[j + 1 :]), j + 1)
