"""`mcpwarden oauth clients|consents|tokens list|revoke`: the authorization server's state.

Reads and changes the records of a gateway's authorization server through its store (the
SQLite file, or the shared PostgreSQL of replicas), so it works whether or not the gateway
is running. Revoking a client stops new authorizations and refreshes for it; revoking a
consent makes the user see the consent page again; revoking third-party tokens (`tokens`)
makes the user's next upstream call fail until they authorize again. Nothing printed ever
contains a token or secret: records hold only hashes and ciphertext.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from mcpwarden.cli import EXIT_OK, UsageError

if TYPE_CHECKING:
    from mcpwarden.authserver.store import Kind, OAuthStore, Record

GROUPS = ("clients", "consents", "tokens")
GROUP_DESCRIPTIONS = {
    "clients": (
        "MCP clients registered with the gateway's authorization server "
        "(Client ID Metadata Documents and dynamic registration)."
    ),
    "consents": (
        "Consents users gave to a client for a redirect URI and scopes; "
        "revoking one makes the next authorization ask again."
    ),
    "tokens": (
        "Per-user third-party tokens held encrypted in the vault; "
        "revoking one sends the user through the third party again."
    ),
}
KIND: dict[str, Kind] = {"clients": "client", "consents": "consent", "tokens": "vault"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "oauth",
        help="list or revoke OAuth clients, consents and per-user third-party tokens",
        description="The gateway's authorization server: registered clients, consents, third-party tokens.",
    )
    groups = parser.add_subparsers(dest="oauth_group", metavar="WHAT", required=True)
    for group in GROUPS:
        g = groups.add_parser(group, help=f"list or revoke {group}", description=GROUP_DESCRIPTIONS[group])
        actions = g.add_subparsers(dest="oauth_action", metavar="ACTION", required=True)
        common = argparse.ArgumentParser(add_help=False)
        common.add_argument("-c", "--config", required=True, help="the gateway config file (its store)")
        common.add_argument("--user", help="only this user (IdP subject)")
        common.add_argument("--client", help="only this client id")
        p = actions.add_parser(
            "list",
            parents=[common],
            help=f"show {group}",
            description=f"Show the stored {group} as a table or JSON lines.",
        )
        p.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
        p.add_argument("--all", action="store_true", help="include revoked and expired records")
        p.set_defaults(handler=cmd_list, group=group)
        p = actions.add_parser(
            "revoke",
            parents=[common],
            help=f"revoke {group}",
            description=f"Revoke {group} by id, or every one matching --user/--client.",
        )
        p.add_argument("id", nargs="?", help="the record id as `list` shows it")
        if group == "tokens":
            p.add_argument("--provider", help="only this third party")
        p.set_defaults(handler=cmd_revoke, group=group)
    rewrap = groups.add_parser(
        "rewrap",
        help="re-encrypt stored third-party tokens under the first vault key",
        description=(
            "Re-encrypt every stored third-party token under the first key of the vault's key list "
            "(key rotation)."
        ),
    )
    rewrap.add_argument("-c", "--config", required=True, help="the gateway config file")
    rewrap.set_defaults(handler=cmd_rewrap, group="tokens")


def _open(args: argparse.Namespace) -> tuple[OAuthStore, Any]:
    from mcpwarden.authserver.service import open_oauth_store
    from mcpwarden.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    if config.authorization_server is None:
        raise UsageError(f"{args.config} has no authorization_server section")
    return open_oauth_store(config), config


def _row(group: str, record: Record) -> dict[str, Any]:
    data = record.data
    row: dict[str, Any] = {"id": record.key, "user": record.user_id, "client_id": record.client_id}
    if group == "clients":
        row.update(
            name=data.get("client_name"),
            source=data.get("source"),
            application_type=data.get("application_type"),
            redirect_uris=data.get("redirect_uris"),
        )
        row.pop("user")
    elif group == "consents":
        row.update(
            redirect_uri=data.get("redirect_uri"), scopes=data.get("scopes"), resources=data.get("resources")
        )
    else:
        row.update(provider=data.get("provider"), key_id=data.get("sealed", {}).get("kid"))
        row.pop("client_id")
    row["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created_at))
    row["revoked"] = record.revoked_at is not None
    return row


def _select(args: argparse.Namespace, store: OAuthStore, include_inactive: bool) -> list[Record]:
    group = args.group
    records = store.list(
        KIND[group], user_id=args.user, client_id=args.client, include_inactive=include_inactive
    )
    provider = getattr(args, "provider", None)
    if provider:
        records = [r for r in records if r.data.get("provider") == provider]
    return records


def cmd_list(args: argparse.Namespace) -> int:
    store, _ = _open(args)
    try:
        rows = [_row(args.group, r) for r in _select(args, store, args.all)]
    finally:
        store.close()
    if args.json:
        for row in rows:
            print(json.dumps(row, sort_keys=True))
        return EXIT_OK
    if not rows:
        print(f"no {args.group}")
        return EXIT_OK
    for row in rows:
        print("  ".join(f"{k}={v}" for k, v in row.items() if v not in (None, "", [])))
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace) -> int:
    provider = getattr(args, "provider", None)
    if not (args.id or args.user or args.client or provider):
        raise UsageError(
            "name what to revoke: an id, --user, --client"
            + (" or --provider" if provider is not None else "")
        )
    store, _ = _open(args)
    try:
        records = _select(args, store, False)
        if args.id:
            records = [r for r in records if r.key == args.id]
        revoked = len([r for r in records if store.revoke(KIND[args.group], r.key)])
        if args.group == "clients":
            # A revoked client's refresh tokens stop working at once.
            for record in records:
                store.revoke_where("refresh", client_id=record.key)
    finally:
        store.close()
    if args.id and not revoked:
        print(f"mcpwarden: no active {args.group[:-1]} {args.id!r}", file=sys.stderr)
        return 1
    print(f"revoked {revoked} {args.group if revoked != 1 else args.group[:-1]}")
    return EXIT_OK


def cmd_rewrap(args: argparse.Namespace) -> int:
    from mcpwarden.authserver.vault import Vault, VaultError

    store, config = _open(args)
    vault_config = config.authorization_server.vault
    if vault_config is None:
        raise UsageError("the config has no authorization_server.vault")
    vault = Vault(vault_config.keys)
    changed = 0
    try:
        for record in store.list("vault"):
            provider = str(record.data.get("provider"))
            try:
                sealed = vault.rewrap(str(record.user_id), provider, record.data["sealed"])
            except VaultError as exc:
                raise UsageError(f"token {record.key}: {exc}") from None
            if sealed is not None:
                store.update_data("vault", record.key, {**record.data, "sealed": sealed})
                changed += 1
    finally:
        store.close()
    print(f"re-encrypted {changed} token(s) under key {vault.current_kid()}")
    return EXIT_OK
