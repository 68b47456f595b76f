"""`mcpwarden serve -c CONFIG.yaml` (or one server: `--upstream URL`, `-- COMMAND ARGS...`):
run the gateway."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from typing import TYPE_CHECKING, Any

from mcpwarden.cli import UsageError

if TYPE_CHECKING:
    from mcpwarden.config import GatewayConfig
    from mcpwarden.workers.identity import WorkerSlot

# Default drain deadline on SIGTERM/Ctrl-C.
DRAIN_S = 10.0

# How long an idle client connection stays open. It must outlast the idle expiry of client
# pools (httpx, which the MCP SDK uses, reuses connections idle up to 5 s; uvicorn's own
# default is also 5 s): with equal values a client sends a request on a connection at the
# instant the gateway closes it, and gets "server disconnected without sending a response".
CLIENT_KEEPALIVE_S = 30


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the gateway (Streamable HTTP) in front of configured upstreams",
        usage="mcpwarden serve (-c CONFIG | --upstream URL | -- COMMAND [ARGS...]) [options]",
        description="Run the gateway in front of the upstreams of a config file, or in front of one "
        "server given on the command line with the default settings (state in "
        "$XDG_STATE_HOME/mcpwarden/<name>/).",
    )
    p.add_argument("-c", "--config", help="gateway config file (YAML)")
    p.add_argument("--upstream", metavar="URL", help="front this Streamable HTTP server (no config file)")
    p.add_argument("--name", help="upstream name for --upstream or COMMAND (default: from the URL/command)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="a stdio server to front, after --")
    p.add_argument("--host", help="override listen.host")
    p.add_argument("--port", type=int, help="override listen.port (0 picks a free port)")
    p.add_argument(
        "--drain-timeout",
        type=float,
        default=DRAIN_S,
        metavar="SECONDS",
        help=f"on SIGTERM or Ctrl-C, how long calls in flight may take to finish before they get "
        f"an error (default {DRAIN_S:g})",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes on the one listening address (default: listen.workers, 1); "
        "see docs/configuration.md",
    )
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mcpwarden.commands import one_server
    from mcpwarden.config import ConfigError, load_config

    source = args.config
    if one_server.wanted(args):
        config, source = one_server.build(args)
    elif not args.config:
        raise UsageError("serve needs -c CONFIG, --upstream URL, or a server command after --")
    else:
        try:
            config = load_config(args.config)
        except ConfigError as exc:
            raise UsageError(str(exc)) from exc
    if args.host:
        config.listen.host = args.host
    if args.port is not None:
        config.listen.port = args.port
    if args.workers is not None:
        if args.workers < 1:
            raise UsageError("--workers must be at least 1")
        config.listen.workers = args.workers
    from mcpwarden.workers.identity import WorkerSlot

    slot = WorkerSlot.from_env()
    if (
        config.auth is None
        and not config.listen.is_loopback()
        and not config.listen.allow_unauthenticated_remote
    ):
        raise UsageError(
            f"refusing to listen on non-loopback address {config.listen.host!r} without client "
            "authentication; configure `auth:` or set listen.allow_unauthenticated_remote: true"
        )
    from mcpwarden.commands.preflight import problems, read_raw

    raw = read_raw(args.config) if args.config else None
    found = problems(config, source, raw=raw, check_port=False)
    if found:
        raise UsageError("\n".join(found))
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if config.auth is not None and config.public_url is None and not config.listen.is_loopback():
        logging.getLogger("mcpwarden.gateway").warning(
            "auth is on but public_url is not set: token audiences default to %s, which remote "
            "clients do not use; set public_url to the URL clients reach this gateway at",
            config.public_base(),
        )

    if slot is None and config.listen.workers > 1:
        asrv = config.authorization_server
        if asrv is not None and asrv.signing_key is None:
            # Each worker would generate its own key, and tokens signed by one would not
            # validate at the others.
            raise UsageError("--workers > 1 with authorization_server needs authorization_server.signing_key")
        from mcpwarden.commands.preflight import port_problem
        from mcpwarden.workers.start import run_supervisor

        problem = port_problem(config.listen.host, config.listen.port)
        if problem is not None:
            raise UsageError(problem)
        argv = list(getattr(args, "argv", None) or sys.argv[1:])
        return run_supervisor(argv, config, config.listen.workers, drain_s=args.drain_timeout)
    if slot is not None:
        slot.apply(config)

    def overrides(reloaded: GatewayConfig) -> None:
        # Command-line settings win over the file on reload too.
        reloaded.listen = config.listen
        if slot is not None:
            slot.apply(reloaded)

    from mcpwarden.store.base import StoreUnavailable

    try:
        run_loop(
            serve(
                config,
                log_level=args.log_level,
                drain_s=args.drain_timeout,
                config_path=args.config,
                overrides=overrides,
                slot=slot,
            )
        )
    except StoreUnavailable as exc:
        # A replica that cannot reach its store at start must not come up half-working.
        raise UsageError(f"cannot start: {exc}") from exc
    return 0


def run_loop(main: Any) -> Any:
    """Run on uvloop where it is installed: the relay is event-loop bound."""
    import asyncio

    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


async def serve(
    config: GatewayConfig,
    *,
    log_level: str = "warning",
    ready: Any = None,
    drain_s: float = 10.0,
    config_path: str | None = None,
    overrides: Any = None,
    slot: WorkerSlot | None = None,
) -> None:
    import asyncio

    import uvicorn

    from mcpwarden.admin.operations import Operations
    from mcpwarden.audit.checkpoint import CheckpointError
    from mcpwarden.audit.jsonl import AuditChainError
    from mcpwarden.commands.preflight import port_problem
    from mcpwarden.gateway.app import build_app
    from mcpwarden.gateway.core import GatewayCore
    from mcpwarden.gateway.http_limits import protocol_class

    # A worker's port is the supervisor's, bound already.
    problem = None if slot is not None else port_problem(config.listen.host, config.listen.port)
    if problem is not None:
        raise UsageError(problem)
    try:
        core = GatewayCore.from_config(config)
    except AuditChainError as exc:
        raise UsageError(f"cannot open the audit file: {exc}") from None
    except CheckpointError as exc:
        # The gateway will not run unaudited: say why and stop (see docs/audit.md).
        raise UsageError(f"audit: {exc}") from None
    core.enable_registry()
    if slot is not None:
        from mcpwarden.workers.child import prepare_core

        prepare_core(core, slot)
    ops = Operations(core, config)
    auth = None
    authorization = None
    if config.authorization_server is not None:
        from mcpwarden.authserver.mount import mount_authorization

        authorization = mount_authorization(core, config)
    if config.auth is not None:
        from mcpwarden.gateway.authn import GatewayAuth

        auth = GatewayAuth(core, config.auth, authorization=authorization)
    app = build_app(core, auth=auth)
    forwarder = None
    if slot is not None:
        from mcpwarden.workers.forward import WorkerForwarder

        # Between two chunks of a relayed answer: longer than any upstream call may take.
        idle_s = max((up.timeout_s for up in config.upstreams.values()), default=30.0) + 30.0
        app = forwarder = WorkerForwarder(
            app,
            slot,
            config,
            idle_s=idle_s,
            on_reject=lambda reason, status: core.audit_event("rejected", reason=reason, status=status),
        )
    trusted = config.listen.trusted_proxies
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.listen.host,
            port=config.listen.port,
            log_level=log_level,
            # Access logs would record query strings, where a misbehaving client may put a token.
            access_log=False,
            lifespan="on",
            http=protocol_class(
                header_timeout_s=config.listen.header_timeout_s,
                fd_reserve=config.listen.fd_reserve,
                on_reject=lambda reason, status: core.audit_event("rejected", reason=reason, status=status),
            ),
            # Our own drain (below) answers every call before this runs out.
            timeout_graceful_shutdown=int(drain_s) + 5,
            timeout_keep_alive=CLIENT_KEEPALIVE_S,
            # uvicorn trusts X-Forwarded-* from loopback by default; here only from listed proxies.
            proxy_headers=bool(trusted),
            forwarded_allow_ips=list(trusted),
        )
    )
    try:
        await ops.start()
    except BaseException:
        await ops.stop()
        await core.stop()
        raise
    if slot is not None:
        from mcpwarden.workers.child import sockets

        task = asyncio.create_task(server.serve(sockets=sockets(slot)))
    else:
        task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.02)
    if not server.started:
        # uvicorn logs the reason and exits; say it in one line whatever happened.
        with contextlib.suppress(BaseException):
            await task
        await ops.stop()
        problem = port_problem(config.listen.host, config.listen.port)
        raise UsageError(
            problem or f"the gateway could not start on {config.listen.host}:{config.listen.port}"
        )
    if server.started:
        from mcpwarden.gateway.lifecycle import Lifecycle

        Lifecycle(core, config_path=config_path, overrides=overrides).install(asyncio.get_running_loop())
        port = server.servers[0].sockets[0].getsockname()[1]
        if config.listen.port == 0:
            core.public_base = config.public_base(port)
        host = config.listen.host
        shown = f"[{host}]" if ":" in host else host
        if slot is not None:
            from mcpwarden.workers.child import signal_ready

            signal_ready(slot)  # the supervisor prints the address once every worker is up
        else:
            print(f"mcpwarden gateway listening on http://{shown}:{port}", file=sys.stderr, flush=True)
            print(f"  aggregated endpoint: http://{shown}:{port}/mcp", file=sys.stderr, flush=True)
            for name in config.upstreams:
                print(
                    f"  upstream {name!r}:  http://{shown}:{port}/servers/{name}/mcp",
                    file=sys.stderr,
                    flush=True,
                )
        if ops.metrics_port is not None and config.metrics is not None:
            mhost = config.metrics.address()[0]
            print(f"  metrics: http://{mhost}:{ops.metrics_port}/metrics", file=sys.stderr, flush=True)
        if ops.admin_port is not None and config.admin is not None:
            ahost = config.admin.address()[0]
            print(f"  admin API: http://{ahost}:{ops.admin_port}/v1/", file=sys.stderr, flush=True)

    async def drain_when_stopping() -> None:
        # uvicorn sets should_exit on SIGTERM/Ctrl-C and then waits for open connections:
        # draining here makes every call end with an answer before that wait runs out.
        while not server.should_exit:
            await asyncio.sleep(0.1)
        print(f"mcpwarden: stopping (calls in flight get up to {drain_s:g} s)", file=sys.stderr, flush=True)
        core.draining = True  # not ready, no new sessions on connections still open
        await core.drain(drain_s)

    watcher = asyncio.create_task(drain_when_stopping())
    try:
        await task
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await ops.stop()
        if forwarder is not None:
            await forwarder.aclose()
