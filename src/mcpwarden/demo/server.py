"""The demo notes server, written with the official MCP SDK (MCPServer, the 2.x successor of FastMCP).

It is deliberately a realistic peer for the gateway rather than a test double: tools that report
progress, log, return structured content, read files from a sandbox, ask the client's model to
summarise (sampling) and ask the user to confirm a deletion (elicitation); a resource, a resource
template with subscriptions, and a prompt whose arguments complete. `check_inbox` returns sample
e-mail that contains a prompt injection, for the content guard to catch.

    python -m mcpwarden.demo.server --transport stdio
    python -m mcpwarden.demo.server --transport http --port 8765   # Streamable HTTP at /mcp

In HTTP mode the first line on stdout is `LISTENING <url>`, printed once requests are accepted.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, Literal

import anyio
import uvicorn
from mcp import types
from mcp.server import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.session import ServerSession
from pydantic import BaseModel, Field

from mcpwarden.demo.inbox import SAMPLE_INBOX
from mcpwarden.demo.notes import NoteError, NoteStore

SERVER_NAME = "mcpwarden-demo-notes"
INDEX_URI = "notes://index"
NOTE_URI_PREFIX = "notes://note/"
REVIEW_FOCUSES = ("clarity", "accuracy", "tone", "brevity", "security")
LOG_ORDER: tuple[types.LoggingLevel, ...] = (
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
)
# A short pause per note while re-indexing so that progress notifications visibly stream.
REINDEX_STEP_S = 0.05
DEFAULT_HTTP_PORT = 8765
# Connections whose logging level and subscriptions are remembered; the oldest is forgotten beyond this.
MAX_TRACKED_CONNECTIONS = 256

DemoContext = Context


class SearchHitModel(BaseModel):
    path: str = Field(description="Note path, usable with read_note")
    title: str
    snippet: str = Field(description="Text around the first match")


class SearchResult(BaseModel):
    query: str
    hits: list[SearchHitModel]


class DeleteConfirmation(BaseModel):
    confirm: bool = Field(description="Delete the note permanently?")


def connection_key(request: Any) -> str:
    """A name for the client connection a request arrived on.

    The 2.x SDK hands every request a fresh session proxy, so the proxy itself cannot key
    per-connection state. Over Streamable HTTP the transport's session id names the connection;
    over stdio the process has exactly one.
    """
    headers = getattr(request, "headers", None)
    session_id = headers.get("mcp-session-id") if headers is not None else None
    return f"http:{session_id}" if session_id else "stdio"


class _SessionState:
    """Per-connection logging level and resource subscriptions, bounded in the number of connections.

    A captured session proxy stays usable after its request, so the latest one per connection is
    kept to deliver `notifications/resources/updated` later; a closed connection drops them quietly.
    """

    def __init__(self) -> None:
        self.levels: OrderedDict[str, types.LoggingLevel] = OrderedDict()
        self.sessions: OrderedDict[str, ServerSession] = OrderedDict()
        self.subscribers: dict[str, set[str]] = {}

    def _remember(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > MAX_TRACKED_CONNECTIONS:
            gone, _ = table.popitem(last=False)
            for keys in self.subscribers.values():
                keys.discard(gone)

    def set_level(self, key: str, level: types.LoggingLevel) -> None:
        self._remember(self.levels, key, level)

    def subscribe(self, key: str, session: ServerSession, uri: str) -> None:
        self._remember(self.sessions, key, session)
        self.subscribers.setdefault(uri, set()).add(key)

    def unsubscribe(self, key: str, uri: str) -> None:
        self.subscribers.get(uri, set()).discard(key)

    def wants(self, key: str, level: types.LoggingLevel) -> bool:
        threshold = self.levels.get(key, "info")
        return LOG_ORDER.index(level) >= LOG_ORDER.index(threshold)

    async def notify_updated(self, uris: list[str]) -> None:
        for uri in uris:
            for key in list(self.subscribers.get(uri, ())):
                session = self.sessions.get(key)
                if session is not None:
                    await session.send_resource_updated(uri)


def build_server(store: NoteStore) -> MCPServer:
    """The demo server over `store`."""
    mcp: MCPServer = MCPServer(
        SERVER_NAME,
        instructions="Personal notes: search, read, add and summarise Markdown notes; check the sample inbox",
        log_level="WARNING",
    )
    state = _SessionState()

    async def log(ctx: DemoContext, level: types.LoggingLevel, message: str) -> None:
        session = ctx.request_context.session
        if state.wants(connection_key(ctx.request_context.request), level):
            await session.send_log_message(
                level=level, data=message, logger=SERVER_NAME, related_request_id=ctx.request_id
            )

    @mcp.tool(
        title="Search notes",
        annotations=types.ToolAnnotations(readOnlyHint=True, openWorldHint=False),
    )
    def search_notes(query: str, limit: int = 5) -> SearchResult:
        """Find notes whose title or text contains `query` (case-insensitive)."""
        try:
            hits = store.search(query, max(1, min(limit, 50)))
        except NoteError as exc:
            raise ToolError(str(exc)) from exc
        return SearchResult(query=query, hits=[SearchHitModel(**vars(hit)) for hit in hits])

    @mcp.tool(
        title="Read note",
        annotations=types.ToolAnnotations(readOnlyHint=True, openWorldHint=False),
    )
    def read_note(path: str) -> str:
        """Return the Markdown text of a note; `path` is relative to the notes directory."""
        try:
            return store.read(path)
        except NoteError as exc:
            raise ToolError(str(exc)) from exc

    @mcp.tool(title="Add note", annotations=types.ToolAnnotations(destructiveHint=False, openWorldHint=False))
    async def add_note(title: str, body: str, ctx: DemoContext) -> str:
        """Save a new note and return its path. Logs what it does."""
        await log(ctx, "debug", f"Adding note titled {title!r} ({len(body)} characters)")
        try:
            name = store.add(title, body)
        except NoteError as exc:
            await log(ctx, "warning", f"Refused note {title!r}: {exc}")
            raise ToolError(str(exc)) from exc
        await log(ctx, "info", f"Saved note {name}")
        await state.notify_updated([INDEX_URI])
        await ctx.request_context.session.send_resource_list_changed()
        return name

    @mcp.tool(
        title="Re-index notes", annotations=types.ToolAnnotations(idempotentHint=True, openWorldHint=False)
    )
    async def reindex_notes(ctx: DemoContext) -> str:
        """Rebuild the search index, reporting progress note by note."""
        notes = store.entries()
        total = len(notes)
        await ctx.report_progress(0, total, message="Starting")
        for done, note in enumerate(notes, start=1):
            await anyio.sleep(REINDEX_STEP_S)
            await ctx.report_progress(done, total, message=f"Indexed {note.path}")
        return f"Indexed {total} notes"

    @mcp.tool(title="Summarise note", annotations=types.ToolAnnotations(readOnlyHint=True))
    async def summarize_note(path: str, ctx: DemoContext) -> str:
        """Ask the client's model (MCP sampling) for a one-paragraph summary of a note."""
        session = ctx.request_context.session
        if not session.check_client_capability(types.ClientCapabilities(sampling=types.SamplingCapability())):
            raise ToolError("this client does not offer sampling, so the note cannot be summarised")
        try:
            text = store.read(path)
        except NoteError as exc:
            raise ToolError(str(exc)) from exc
        reply = await session.create_message(
            messages=[
                types.SamplingMessage(
                    role="user",
                    content=types.TextContent(
                        type="text", text=f"Summarise this note in one paragraph:\n\n{text}"
                    ),
                )
            ],
            max_tokens=200,
            related_request_id=ctx.request_id,
        )
        content = reply.content
        return (
            content.text if isinstance(content, types.TextContent) else f"(model replied with {content.type})"
        )

    @mcp.tool(
        title="Delete note", annotations=types.ToolAnnotations(destructiveHint=True, openWorldHint=False)
    )
    async def delete_note(path: str, ctx: DemoContext) -> str:
        """Delete a note after the user confirms (MCP elicitation); refuses without confirmation."""
        session = ctx.request_context.session
        if not session.check_client_capability(
            types.ClientCapabilities(elicitation=types.ElicitationCapability())
        ):
            raise ToolError("this client cannot ask the user for confirmation, so nothing was deleted")
        try:
            store.read(path)
        except NoteError as exc:
            raise ToolError(str(exc)) from exc
        answer = await ctx.elicit(f"Delete the note {path!r}?", DeleteConfirmation)
        if answer.action != "accept" or not answer.data.confirm:
            return f"Kept {path}: deletion not confirmed"
        name = store.delete(path)
        await log(ctx, "info", f"Deleted note {name}")
        await state.notify_updated([INDEX_URI, NOTE_URI_PREFIX + name])
        await session.send_resource_list_changed()
        return f"Deleted {name}"

    @mcp.tool(title="Check inbox", annotations=types.ToolAnnotations(readOnlyHint=True, openWorldHint=True))
    def check_inbox() -> str:
        """SAMPLE DATA for the demo: returns a fixed inbox of three e-mails. One of them contains a
        deliberate prompt-injection attempt, so that the gateway's content guard can be seen at work."""
        return "\n\n".join(
            f"From: {mail.sender}\nSubject: {mail.subject}\n\n{mail.body}" for mail in SAMPLE_INBOX
        )

    @mcp.resource(
        INDEX_URI, name="notes-index", description="Every note with its title", mime_type="text/markdown"
    )
    def notes_index() -> str:
        lines = [f"- `{note.path}`: {note.title} ({note.size} bytes)" for note in store.entries()]
        return "# Notes\n\n" + ("\n".join(lines) if lines else "(no notes yet)") + "\n"

    @mcp.resource(
        NOTE_URI_PREFIX + "{name}",
        name="note",
        description="One note by name (top-level notes)",
        mime_type="text/markdown",
    )
    def note_resource(name: str) -> str:
        try:
            return store.read(name)
        except NoteError as exc:
            raise ValueError(str(exc)) from exc

    @mcp.prompt(title="Review a note")
    def review_note(name: str, focus: str = "clarity") -> list[dict[str, Any]]:
        """Ask the model to review one note with a given focus (clarity, accuracy, tone, ...)."""
        try:
            text = store.read(name)
        except NoteError as exc:
            raise ValueError(str(exc)) from exc
        return [
            {
                "role": "user",
                "content": {
                    "type": "resource",
                    "resource": {"uri": NOTE_URI_PREFIX + name, "mimeType": "text/markdown", "text": text},
                },
            },
            {
                "role": "user",
                "content": {
                    "type": "text",
                    "text": f"Review the note above for {focus}. Suggest concrete edits.",
                },
            },
        ]

    async def complete(
        ctx: ServerRequestContext[Any], params: types.CompleteRequestParams
    ) -> types.CompleteResult:
        argument = params.argument
        prefix = argument.value.casefold()
        if argument.name == "name":
            values = [note.path for note in store.entries() if note.path.casefold().startswith(prefix)]
        elif argument.name == "focus" and isinstance(params.ref, types.PromptReference):
            values = [focus for focus in REVIEW_FOCUSES if focus.startswith(prefix)]
        else:
            values = []
        return types.CompleteResult(
            completion=types.Completion(values=values[:100], total=len(values), has_more=len(values) > 100)
        )

    async def set_level(
        ctx: ServerRequestContext[Any], params: types.SetLevelRequestParams
    ) -> types.EmptyResult:
        state.set_level(connection_key(ctx.request), params.level)
        return types.EmptyResult()

    async def subscribe(
        ctx: ServerRequestContext[Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        state.subscribe(connection_key(ctx.request), ctx.session, params.uri)
        return types.EmptyResult()

    async def unsubscribe(
        ctx: ServerRequestContext[Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        state.unsubscribe(connection_key(ctx.request), params.uri)
        return types.EmptyResult()

    lowlevel: Any = mcp._lowlevel_server
    lowlevel.add_request_handler("completion/complete", types.CompleteRequestParams, complete)
    lowlevel.add_request_handler("logging/setLevel", types.SetLevelRequestParams, set_level)
    lowlevel.add_request_handler("resources/subscribe", types.SubscribeRequestParams, subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams, unsubscribe)
    _advertise_resource_list_changes(lowlevel)
    return mcp


def _advertise_resource_list_changes(lowlevel: Any) -> None:
    """Advertise `resources.listChanged` in the handshake era, where the demo does send it.

    MCPServer has no public switch for it (its low-level server is private, hence `Any`); a client
    that honours capabilities would otherwise ignore the demo's list-changed notifications.
    """
    sdk_capabilities = lowlevel.get_capabilities

    def get_capabilities(*args: Any, **kwargs: Any) -> types.ServerCapabilities:
        capabilities: types.ServerCapabilities = sdk_capabilities(*args, **kwargs)
        if capabilities.resources is not None and capabilities.resources.subscribe:
            capabilities.resources.list_changed = True
        return capabilities

    lowlevel.get_capabilities = get_capabilities


async def serve_http(mcp: MCPServer, port: int) -> None:
    """Serve Streamable HTTP on 127.0.0.1; the socket is bound first so port 0 can be announced."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    app = mcp.streamable_http_app(streamable_http_path="/mcp")

    @contextlib.asynccontextmanager
    async def announced(_: Any) -> Any:
        async with mcp.session_manager.run():
            print(f"LISTENING {url}", flush=True)
            yield

    app.router.lifespan_context = announced
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve(sockets=[sock])


def default_sandbox() -> Path:
    return Path(tempfile.gettempdir()) / "mcpwarden-demo-notes"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mcpwarden.demo.server", description="mcpwarden demo notes server"
    )
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_HTTP_PORT, help="HTTP port on 127.0.0.1 (0: any free)"
    )
    parser.add_argument(
        "--sandbox",
        type=Path,
        default=None,
        help=f"directory holding the notes (default: {default_sandbox()}); seeded with samples when empty",
    )
    args = parser.parse_args(argv)
    store = NoteStore(args.sandbox if args.sandbox is not None else default_sandbox())
    store.seed()
    transport: Literal["stdio", "http"] = args.transport
    mcp = build_server(store)
    if transport == "stdio":
        mcp.run("stdio")
    else:
        anyio.run(serve_http, mcp, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
