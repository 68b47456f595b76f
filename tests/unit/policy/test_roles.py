from mcpwarden.policy.model import RolesConfig
from mcpwarden.policy.roles import RoleExtractor


def roles(config: dict[str, object], claims: dict[str, object]) -> frozenset[str]:
    return RoleExtractor(RolesConfig.model_validate(config)).roles(claims)


def test_entra_app_roles_list_becomes_roles() -> None:
    assert roles({"claims": [{"path": "roles"}]}, {"roles": ["Docs.Read", "Docs.Write"]}) == {
        "Docs.Read",
        "Docs.Write",
    }


def test_entra_scp_string_is_split_on_spaces() -> None:
    got = roles({"claims": [{"path": "scp", "prefix": "scope:"}]}, {"scp": "files.read  mail.send"})
    assert got == {"scope:files.read", "scope:mail.send"}


def test_entra_group_ids_map_to_roles_and_unmapped_ids_are_dropped() -> None:
    config = {"claims": [{"path": "groups", "map": {"0b1c-guid": "admin"}, "only_mapped": True}]}
    assert roles(config, {"groups": ["0b1c-guid", "ffff-guid"]}) == {"admin"}


def test_keycloak_realm_roles_are_read_from_nested_path() -> None:
    got = roles({"claims": [{"path": "realm_access.roles"}]}, {"realm_access": {"roles": ["analyst"]}})
    assert got == {"analyst"}


def test_keycloak_client_roles_with_dotted_client_id_use_a_key_list() -> None:
    config = {"claims": [{"path": ["resource_access", "mcp.gateway", "roles"]}]}
    claims = {"resource_access": {"mcp.gateway": {"roles": ["tools-admin"]}}}
    assert roles(config, claims) == {"tools-admin"}


def test_plain_scope_claim_is_split() -> None:
    assert roles({"claims": [{"path": "scope"}]}, {"scope": "tools:read tools:write"}) == {
        "tools:read",
        "tools:write",
    }


def test_one_claim_value_may_map_to_several_roles() -> None:
    config = {"claims": [{"path": "roles", "map": {"Admin": ["reader", "writer"]}}]}
    assert roles(config, {"roles": ["Admin"]}) == {"reader", "writer"}


def test_claim_of_unexpected_shape_gives_no_roles() -> None:
    config = {"claims": [{"path": "realm_access.roles"}, {"path": "roles"}]}
    assert roles(config, {"realm_access": "oops", "roles": {"not": "a list"}}) == frozenset()


def test_non_string_list_items_are_ignored() -> None:
    assert roles({"claims": [{"path": "roles"}]}, {"roles": ["ok", 7, None, {"x": 1}]}) == {"ok"}


def test_always_roles_are_given_without_claims() -> None:
    assert roles({"always": ["everyone"]}, {}) == {"everyone"}
