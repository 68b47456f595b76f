"""`mcpwarden serve -c CONFIG.yaml`: run the gateway."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

from mcpwarden.cli import UsageError
from mcpwarden.config import ConfigError, GatewayConfig, load_config


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve", help="run the gateway (Streamable HTTP) in front of configured upstreams"
    )
    p.add_argument("-c", "--config", required=True, help="gateway config file (YAML)")
    p.add_argument("--host", help="override listen.host")
    p.add_argument("--port", type=int, help="override listen.port (0 picks a free port)")
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    if args.host:
        config.listen.host = args.host
    if args.port is not None:
        config.listen.port = args.port
    if (
        config.auth is None
        and not config.listen.is_loopback()
        and not config.listen.allow_unauthenticated_remote
    ):
        raise UsageError(
            f"refusing to listen on non-loopback address {config.listen.host!r} without client "
            "authentication; configure `auth:` or set listen.allow_unauthenticated_remote: true"
        )
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if config.auth is not None and config.public_url is None and not config.listen.is_loopback():
        logging.getLogger("mcpwarden.gateway").warning(
            "auth is on but public_url is not set: token audiences default to %s, which remote "
            "clients do not use; set public_url to the URL clients reach this gateway at",
            config.public_base(),
        )

    def overrides(reloaded: GatewayConfig) -> None:
        # Command-line settings win over the file on reload too.
        reloaded.listen = config.listen

    from mcpwarden.store.base import StoreUnavailable

    try:
        run_loop(serve(config, log_level=args.log_level, config_path=args.config, overrides=overrides))
    except StoreUnavailable as exc:
        # A replica that cannot reach its store at start must not come up half-working.
        raise UsageError(f"cannot start: {exc}") from exc
    return 0


def run_loop(main: Any) -> Any:
    """Run on uvloop where it is installed: the relay is event-loop bound."""
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
    config_path: str | None = None,
    overrides: Any = None,
) -> None:
    import uvicorn

    from mcpwarden.gateway.core import GatewayCore
    from mcpwarden.gateway.front import build_app

    core = GatewayCore.from_config(config)
    core.enable_registry()
    auth = None
    if config.auth is not None:
        from mcpwarden.gateway.authn import GatewayAuth

        auth = GatewayAuth(core, config.auth)
    app = build_app(core, auth=auth)
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
            http="httptools",
            timeout_graceful_shutdown=3,
            # uvicorn trusts X-Forwarded-* from loopback by default; here only from listed proxies.
            proxy_headers=bool(trusted),
            forwarded_allow_ips=list(trusted),
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.02)
    if server.started:
        from mcpwarden.gateway.lifecycle import Lifecycle

        def request_exit() -> None:
            server.should_exit = True

        Lifecycle(core, request_exit, config_path=config_path, overrides=overrides).install(
            asyncio.get_running_loop()
        )
        port = server.servers[0].sockets[0].getsockname()[1]
        if config.listen.port == 0:
            core.public_base = config.public_base(port)
        host = config.listen.host
        shown = f"[{host}]" if ":" in host else host
        print(f"mcpwarden gateway listening on http://{shown}:{port}", file=sys.stderr, flush=True)
        print(f"  aggregated endpoint: http://{shown}:{port}/mcp", file=sys.stderr, flush=True)
        for name in config.upstreams:
            print(
                f"  upstream {name!r}:  http://{shown}:{port}/servers/{name}/mcp", file=sys.stderr, flush=True
            )
    await task
