"""Notes kept as Markdown files in one sandbox directory.

Every path a client names is resolved and must stay inside the sandbox, so the demo's own file access
cannot be turned into arbitrary file reads: `../`, absolute paths and symlinks out are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

NOTE_SUFFIX = ".md"
MAX_NOTE_BYTES = 64 * 1024
SNIPPET_RADIUS = 40

SEED_NOTES: dict[str, str] = {
    "welcome": (
        "# Welcome\n\n"
        "This is the mcpwarden demo notes server. Search, read and add notes; every call you make\n"
        "goes through the gateway, which audits it and applies its guards.\n"
    ),
    "gateway-checklist": (
        "# Gateway rollout checklist\n\n"
        "- Pin every tool definition and review changes before approving them.\n"
        "- Keep the audit log on append-only storage and verify its hash chain daily.\n"
        "- Allow only the tools each team needs.\n"
    ),
    "meeting-2026-11-20": (
        "# Security sync, 20 November\n\n"
        "Decided to route all MCP servers through the gateway. Open question: which servers may\n"
        "read the shared drive. Next review in two weeks.\n"
    ),
}


class NoteError(ValueError):
    """A request the store refuses: unknown note, path outside the sandbox, note too large."""


@dataclass(frozen=True)
class NoteInfo:
    path: str
    title: str
    size: int


@dataclass(frozen=True)
class SearchHit:
    path: str
    title: str
    snippet: str


class NoteStore:
    """Markdown notes under `root`; names are paths relative to it, with or without `.md`."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def seed(self) -> None:
        """Write the sample notes when the sandbox holds none, so a first run has something to show."""
        if any(self.root.rglob(f"*{NOTE_SUFFIX}")):
            return
        for name, text in SEED_NOTES.items():
            (self.root / f"{name}{NOTE_SUFFIX}").write_text(text, encoding="utf-8")

    def resolve(self, path: str) -> Path:
        """The file for `path`, refusing anything that resolves outside the sandbox."""
        if not path or "\x00" in path:
            raise NoteError("note path is empty or contains NUL")
        candidate = self.root / path
        if candidate.suffix != NOTE_SUFFIX:
            candidate = candidate.with_name(candidate.name + NOTE_SUFFIX)
        resolved = candidate.resolve()
        if not resolved.is_relative_to(self.root):
            raise NoteError(f"{path!r} is outside the notes directory")
        return resolved

    def entries(self) -> list[NoteInfo]:
        notes = []
        for file in sorted(self.root.rglob(f"*{NOTE_SUFFIX}")):
            if not file.resolve().is_relative_to(self.root) or not file.is_file():
                continue
            text = file.read_text(encoding="utf-8", errors="replace")
            notes.append(NoteInfo(self._name(file), _title(text, file.stem), file.stat().st_size))
        return notes

    def read(self, path: str) -> str:
        file = self.resolve(path)
        if not file.is_file():
            raise NoteError(f"no note named {path!r}")
        if file.stat().st_size > MAX_NOTE_BYTES:
            raise NoteError(f"{path!r} is larger than {MAX_NOTE_BYTES} bytes")
        return file.read_text(encoding="utf-8", errors="replace")

    def add(self, title: str, body: str) -> str:
        """Save a new note named after its title; returns its path. Never overwrites a note."""
        text = f"# {title.strip()}\n\n{body.strip()}\n"
        if len(text.encode("utf-8")) > MAX_NOTE_BYTES:
            raise NoteError(f"note is larger than {MAX_NOTE_BYTES} bytes")
        base = slugify(title)
        name, counter = base, 1
        while (self.root / f"{name}{NOTE_SUFFIX}").exists():
            counter += 1
            name = f"{base}-{counter}"
        (self.root / f"{name}{NOTE_SUFFIX}").write_text(text, encoding="utf-8")
        return name

    def delete(self, path: str) -> str:
        file = self.resolve(path)
        if not file.is_file():
            raise NoteError(f"no note named {path!r}")
        file.unlink()
        return self._name(file)

    def search(self, query: str, limit: int) -> list[SearchHit]:
        """Case-insensitive substring search over titles and bodies, in path order."""
        needle = query.casefold().strip()
        if not needle:
            raise NoteError("search query is empty")
        hits = []
        for note in self.entries():
            text = self.read(note.path)
            where = text.casefold().find(needle)
            if where < 0:
                continue
            start, end = max(0, where - SNIPPET_RADIUS), where + len(needle) + SNIPPET_RADIUS
            snippet = " ".join(text[start:end].split())
            hits.append(SearchHit(note.path, note.title, snippet))
            if len(hits) >= limit:
                break
        return hits

    def _name(self, file: Path) -> str:
        return file.relative_to(self.root).with_suffix("").as_posix()


def slugify(title: str) -> str:
    """Lower-case ASCII letters and digits joined by single dashes; "note" when nothing is left."""
    words: list[str] = []
    current: list[str] = []
    for char in title.lower():
        if char.isascii() and char.isalnum():
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return "-".join(words)[:60].strip("-") or "note"


def _title(text: str, fallback: str) -> str:
    first = text.lstrip().split("\n", 1)[0]
    return first[2:].strip() if first.startswith("# ") else fallback
