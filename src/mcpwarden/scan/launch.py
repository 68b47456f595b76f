"""Take a server's launch command apart: wrappers (shells, sudo, env, cmd /c) and the
command segments they finally run.

Checks reason about what will actually execute. A config that says `cmd /c npx -y pkg`
or `bash -c "npx -y pkg"` runs `npx -y pkg`, so the package checks must see through the
wrapper, while the wrapper itself is worth reporting: a shell script can hide anything.
"""

from __future__ import annotations

import base64
import binascii
import shlex
from dataclasses import dataclass
from typing import Literal

WrapperKind = Literal["shell", "cmd", "powershell", "sudo", "env"]

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "ash", "fish", "csh", "tcsh", "busybox"})
POWERSHELLS = frozenset({"powershell", "pwsh"})
ELEVATORS = frozenset({"sudo", "doas", "pkexec", "runas", "gsudo", "su"})
_SUDO_VALUE_OPTS = frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "--user", "--group"})
_OPERATOR_CHARS = frozenset("();<>|&")
_PS_COMMAND_FLAGS = ("-command", "-c", "/c", "/command")
_PS_ENCODED_FLAGS = ("-encodedcommand", "-e", "-ec", "-enc", "/e", "/ec", "/encodedcommand")
_MAX_UNWRAP = 6


def exe_name(command: str) -> str:
    """`C:\\Program Files\\nodejs\\npx.cmd` -> `npx`: the program, whatever the platform."""
    base = command.replace("\\", "/").rsplit("/", 1)[-1].lower()
    for suffix in (".exe", ".cmd", ".bat", ".ps1", ".com"):
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


@dataclass(frozen=True, slots=True)
class Segment:
    """One command that will run. `arg_offset` maps argv[i] back to the config:
    -1 means argv[0] is the entry's `command`, k >= 0 means argv[0] is `args[k]`, and
    None means the segment came out of a script string inside a single argument."""

    argv: tuple[str, ...]
    arg_offset: int | None
    script_field: str | None = None

    def field_of(self, index: int) -> str:
        if self.arg_offset is None:
            return self.script_field or "args"
        position = self.arg_offset + index
        return "command" if position < 0 else f"args.{position}"


@dataclass(frozen=True, slots=True)
class Wrapper:
    kind: WrapperKind
    program: str
    flag: str | None
    script: str | None
    field: str


@dataclass(frozen=True, slots=True)
class Launch:
    segments: tuple[Segment, ...]
    wrappers: tuple[Wrapper, ...]

    @property
    def scripts(self) -> list[str]:
        return [w.script for w in self.wrappers if w.script is not None]


def _field(offset: int, index: int) -> str:
    position = offset + index
    return "command" if position < 0 else f"args.{position}"


def split_script(script: str) -> list[list[str]]:
    """Split a shell command line into simple commands at `;`, `&&`, `|` and friends."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: fall back to whitespace words
        tokens = script.split()
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token and set(token) <= _OPERATOR_CHARS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def _decode_powershell(encoded: str) -> str | None:
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-16-le")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _script_segments(script: str, field: str) -> list[Segment]:
    return [Segment(tuple(cmd), None, field) for cmd in split_script(script)]


def analyze_launch(command: str, args: tuple[str, ...] | list[str]) -> Launch:
    """Unwrap `command args` into the segments that run and the wrappers around them."""
    argv: list[str] = [command, *args]
    offset = -1
    wrappers: list[Wrapper] = []
    for _ in range(_MAX_UNWRAP):
        if not argv:
            break
        prog = exe_name(argv[0])
        if prog in ELEVATORS:
            j = 1
            while j < len(argv) and argv[j].startswith("-"):
                j += 2 if argv[j] in _SUDO_VALUE_OPTS else 1
            wrappers.append(Wrapper("sudo", prog, None, None, _field(offset, 0)))
            argv, offset = argv[j:], offset + j
            continue
        if prog == "env":
            j = 1
            while j < len(argv) and (argv[j].startswith("-") or "=" in argv[j]):
                j += 2 if argv[j] in ("-u", "--unset", "-C", "--chdir", "-S") else 1
            wrappers.append(Wrapper("env", prog, None, None, _field(offset, 0)))
            argv, offset = argv[j:], offset + j
            continue
        if prog in SHELLS:
            for j in range(1, len(argv)):
                token = argv[j]
                if not token.startswith("-"):
                    break
                if not token.startswith("--") and "c" in token[1:]:
                    script = argv[j + 1] if j + 1 < len(argv) else ""
                    field = _field(offset, j + 1)
                    wrappers.append(Wrapper("shell", prog, token, script, field))
                    return Launch(tuple(_script_segments(script, field)), tuple(wrappers))
            break
        if prog == "cmd":
            j = 1
            while j < len(argv) and argv[j].lower() in ("/s", "/q", "/d"):
                j += 1
            if j < len(argv) and argv[j].lower() in ("/c", "/k"):
                rest = argv[j + 1 :]
                script = " ".join(rest)
                field = _field(offset, j + 1)
                wrappers.append(Wrapper("cmd", prog, argv[j], script, field))
                if len(rest) == 1 and " " in rest[0]:
                    return Launch(tuple(_script_segments(rest[0], field)), tuple(wrappers))
                if any(set(r) & set("&|<>^") for r in rest):
                    return Launch(tuple(_script_segments(script, field)), tuple(wrappers))
                argv, offset = rest, offset + j + 1
                continue
            break
        if prog in POWERSHELLS:
            for j in range(1, len(argv)):
                flag = argv[j].lower()
                if flag in _PS_ENCODED_FLAGS and j + 1 < len(argv):
                    decoded = _decode_powershell(argv[j + 1])
                    script = decoded if decoded is not None else argv[j + 1]
                    field = _field(offset, j + 1)
                    wrappers.append(Wrapper("powershell", prog, argv[j], script, field))
                    return Launch(tuple(_script_segments(script, field)), tuple(wrappers))
                if flag in _PS_COMMAND_FLAGS:
                    script = " ".join(argv[j + 1 :])
                    field = _field(offset, j + 1)
                    wrappers.append(Wrapper("powershell", prog, argv[j], script, field))
                    return Launch(tuple(_script_segments(script, field)), tuple(wrappers))
            break
        break
    segments = (Segment(tuple(argv), offset),) if argv else ()
    return Launch(segments, tuple(wrappers))
