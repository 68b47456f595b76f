"""TokenValidator against a fixture issuer: every check, one behaviour per test."""

from __future__ import annotations

import time

import httpx
import pytest
from auth_testkit import RESOURCE, FakeIssuer, hmac_token, raw_rs256, sign, unsigned_token
from joserfc.jwk import ECKey, RSAKey

from mcpwarden.auth.errors import AuthError

pytestmark = pytest.mark.anyio


async def _reject(idp: FakeIssuer, token: str, resource: str = RESOURCE, **config: object) -> AuthError:
    validator = idp.validator(**config)
    with pytest.raises(AuthError) as info:
        await validator.validate(token, resource=resource)
    return info.value


async def test_valid_token_yields_principal_with_claims(idp: FakeIssuer) -> None:
    principal = await idp.validator().validate(idp.token(), resource=RESOURCE)
    assert principal.subject == "user-1"
    assert principal.issuer == idp.issuer
    assert principal.client_id == "client-1"
    assert principal.claims["roles"] == ["mcp.user"]


async def test_verified_token_carries_scopes_and_roles(idp: FakeIssuer) -> None:
    verified = await idp.validator().authenticate(idp.token(), resource=RESOURCE)
    assert verified.scopes == {"mcp:tools", "mcp:read"}
    assert verified.roles == {"mcp.user"}
    assert verified.kind == "jwt"


async def test_rejects_token_with_alg_none(idp: FakeIssuer) -> None:
    token = unsigned_token({"alg": "none", "typ": "at+jwt", "kid": idp.key.kid}, idp.claims())
    error = await _reject(idp, token)
    assert (error.status, error.error, error.reason) == (401, "invalid_token", "token.alg")


async def test_rejects_hs256_signed_with_rsa_public_key(idp: FakeIssuer) -> None:
    assert isinstance(idp.key, RSAKey)
    secret = idp.key.as_pem(private=False)
    token = hmac_token({"alg": "HS256", "typ": "at+jwt", "kid": idp.key.kid}, idp.claims(), secret)
    error = await _reject(idp, token)
    assert (error.status, error.error, error.reason) == (401, "invalid_token", "token.alg")


async def test_rejects_token_signed_by_unknown_kid(idp: FakeIssuer) -> None:
    attacker = RSAKey.generate_key(2048, parameters={"kid": "attacker"})
    error = await _reject(idp, idp.token(key=attacker))
    assert (error.status, error.error, error.reason) == (401, "invalid_token", "token.kid")


async def test_rejects_attacker_key_reusing_trusted_kid(idp: FakeIssuer) -> None:
    attacker = RSAKey.generate_key(2048, parameters={"kid": idp.key.kid})
    error = await _reject(idp, idp.token(key=attacker))
    assert (error.status, error.reason) == (401, "token.signature")


async def test_ignores_key_embedded_in_token_header(idp: FakeIssuer) -> None:
    attacker = RSAKey.generate_key(2048, parameters={"kid": "embedded"})
    token = idp.token(key=attacker, header={"jwk": attacker.as_dict(private=False)})
    error = await _reject(idp, token)
    assert error.reason == "token.kid"


async def test_rejects_tampered_payload(idp: FakeIssuer) -> None:
    header, _, signature = idp.token().split(".")
    other_payload = idp.token(sub="admin").split(".")[1]
    error = await _reject(idp, f"{header}.{other_payload}.{signature}")
    assert error.reason == "token.signature"


async def test_rejects_rs256_token_naming_an_ec_key(idp: FakeIssuer) -> None:
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    idp.keys.append(ec)
    token = idp.token(header={"kid": "ec-1"})
    error = await _reject(idp, token)
    assert error.reason == "token.kid"


async def test_accepts_es256_token_from_issuer_ec_key(idp: FakeIssuer) -> None:
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    idp.keys.append(ec)
    principal = await idp.validator().validate(sign(ec, idp.claims()), resource=RESOURCE)
    assert principal.subject == "user-1"


async def test_rejects_wrong_issuer(idp: FakeIssuer) -> None:
    error = await _reject(idp, idp.token(iss="https://evil.example.test"))
    assert (error.status, error.error, error.reason) == (401, "invalid_token", "token.issuer")


async def test_rejects_audience_of_another_resource(idp: FakeIssuer) -> None:
    error = await _reject(idp, idp.token(aud="https://other.example.test/mcp"))
    assert (error.status, error.reason) == (401, "token.audience")


async def test_rejects_parent_path_audience(idp: FakeIssuer) -> None:
    error = await _reject(idp, idp.token(aud="https://gw.example.test/"))
    assert error.reason == "token.audience"


async def test_accepts_audience_differing_only_in_canonical_form(idp: FakeIssuer) -> None:
    token = idp.token(aud="HTTPS://GW.Example.Test:443/mcp/")
    assert (await idp.validator().validate(token, resource=RESOURCE)).subject == "user-1"


async def test_rejects_audience_list_with_others_in_strict_mode(idp: FakeIssuer) -> None:
    error = await _reject(idp, idp.token(aud=[RESOURCE, "https://other.example.test/api"]))
    assert (error.status, error.reason) == (401, "token.audience_extra")


async def test_accepts_audience_list_with_others_when_not_strict(idp: FakeIssuer) -> None:
    token = idp.token(aud=[RESOURCE, "https://other.example.test/api"])
    validator = idp.validator(strict_audience=False)
    assert (await validator.validate(token, resource=RESOURCE)).subject == "user-1"


async def test_rejects_token_without_audience(idp: FakeIssuer) -> None:
    token = sign(idp.key, {k: v for k, v in idp.claims().items() if k != "aud"})
    error = await _reject(idp, token)
    assert error.reason == "token.audience"


async def test_rejects_expired_token(idp: FakeIssuer) -> None:
    now = int(time.time())
    error = await _reject(idp, idp.token(iat=now - 600, exp=now - 120), leeway=30)
    assert (error.status, error.error, error.reason) == (401, "invalid_token", "token.expired")


async def test_accepts_token_expired_within_leeway(idp: FakeIssuer) -> None:
    now = int(time.time())
    validator = idp.validator(leeway=60)
    principal = await validator.validate(idp.token(iat=now - 600, exp=now - 10), resource=RESOURCE)
    assert principal.subject == "user-1"


async def test_rejects_token_not_yet_valid(idp: FakeIssuer) -> None:
    now = int(time.time())
    error = await _reject(idp, idp.token(nbf=now + 600), leeway=30)
    assert (error.status, error.reason) == (401, "token.not_yet_valid")


async def test_rejects_token_without_exp(idp: FakeIssuer) -> None:
    token = sign(idp.key, {k: v for k, v in idp.claims().items() if k != "exp"})
    error = await _reject(idp, token)
    assert (error.status, error.error, error.reason) == (401, "invalid_token", "token.exp_missing")


async def test_rejects_non_numeric_exp(idp: FakeIssuer) -> None:
    error = await _reject(idp, idp.token(exp="never"))
    assert error.reason == "token.malformed"


async def test_rejects_token_issued_in_the_future(idp: FakeIssuer) -> None:
    now = int(time.time())
    error = await _reject(idp, idp.token(iat=now + 3600, exp=now + 7200), leeway=30)
    assert error.reason == "token.iat_future"


async def test_rejects_token_lifetime_above_maximum(idp: FakeIssuer) -> None:
    now = int(time.time())
    token = idp.token(iat=now, exp=now + 86_400)
    error = await _reject(idp, token, max_token_lifetime=3600)
    assert error.reason == "token.lifetime"


async def test_rejects_token_replayed_at_another_endpoint(idp: FakeIssuer) -> None:
    endpoint_a = "https://gw.example.test/servers/a/mcp"
    endpoint_b = "https://gw.example.test/servers/b/mcp"
    validator = idp.validator(endpoints={endpoint_a: {}, endpoint_b: {}})
    token = idp.token(aud=endpoint_a)
    assert (await validator.validate(token, resource=endpoint_a)).subject == "user-1"
    with pytest.raises(AuthError) as info:
        await validator.validate(token, resource=endpoint_b)
    assert (info.value.status, info.value.reason) == (401, "token.audience")


async def test_audience_alias_is_valid_only_for_default_audience(idp: FakeIssuer) -> None:
    validator = idp.validator(audience=RESOURCE, audience_aliases=["api://gateway"])
    token = idp.token(aud="api://gateway")
    assert (await validator.validate(token, resource=RESOURCE)).subject == "user-1"
    with pytest.raises(AuthError):
        await validator.validate(token, resource="https://gw.example.test/servers/a/mcp")


async def test_rejects_id_token_type(idp: FakeIssuer) -> None:
    error = await _reject(idp, idp.token(header={"typ": "JWT"}))
    assert (error.status, error.reason) == (401, "token.typ")


async def test_accepts_token_without_typ_by_default(idp: FakeIssuer) -> None:
    token = idp.token(header={"typ": None})
    assert (await idp.validator().validate(token, resource=RESOURCE)).subject == "user-1"


async def test_rejects_token_without_typ_when_required(idp: FakeIssuer) -> None:
    error = await _reject(idp, idp.token(header={"typ": None}), require_typ=True)
    assert error.reason == "token.typ"


async def test_rejects_critical_header(idp: FakeIssuer) -> None:
    assert isinstance(idp.key, RSAKey)
    header = {"alg": "RS256", "kid": idp.key.kid, "typ": "at+jwt", "crit": ["x-must"], "x-must": 1}
    error = await _reject(idp, raw_rs256(idp.key, header, idp.claims()))
    assert error.reason == "token.crit"


async def test_rejects_opaque_token_without_introspection(idp: FakeIssuer) -> None:
    error = await _reject(idp, "opaque-token-value")
    assert (error.status, error.reason) == (401, "token.malformed")


async def test_rejects_oversized_token(idp: FakeIssuer) -> None:
    error = await _reject(idp, "a" * 20_000)
    assert error.reason == "token.malformed"


async def test_missing_required_scope_is_403_insufficient_scope(idp: FakeIssuer) -> None:
    error = await _reject(idp, idp.token(scope="mcp:read"), required_scopes=["mcp:tools"])
    assert (error.status, error.error, error.scope) == (403, "insufficient_scope", ["mcp:tools"])


async def test_endpoint_required_scope_applies_only_there(idp: FakeIssuer) -> None:
    admin = "https://gw.example.test/servers/admin/mcp"
    validator = idp.validator(endpoints={admin: {"required_scopes": ["mcp:admin"]}, RESOURCE: {}})
    assert (await validator.validate(idp.token(), resource=RESOURCE)).subject == "user-1"
    with pytest.raises(AuthError) as info:
        await validator.validate(idp.token(aud=admin), resource=admin)
    assert (info.value.status, info.value.scope) == (403, ["mcp:admin"])


async def test_scope_list_claim_is_read(idp: FakeIssuer) -> None:
    verified = await idp.validator().authenticate(idp.token(scope=None, scp=["a", "b"]), resource=RESOURCE)
    assert verified.scopes == {"a", "b"}


async def test_validated_token_is_served_from_cache(idp: FakeIssuer) -> None:
    validator = idp.validator()
    token = idp.token()
    for _ in range(5):
        await validator.validate(token, resource=RESOURCE)
    assert (validator.cache_misses, validator.cache_hits) == (1, 4)
    assert idp.jwks_fetches == 1


async def test_cached_token_is_rejected_after_expiry(idp: FakeIssuer) -> None:
    now = [time.time()]
    validator = idp.validator(clock=lambda: now[0], leeway=0)
    token = idp.token(exp=int(now[0]) + 60)
    await validator.validate(token, resource=RESOURCE)
    now[0] += 120
    with pytest.raises(AuthError) as info:
        await validator.validate(token, resource=RESOURCE)
    assert info.value.reason == "token.expired"


async def test_cache_is_keyed_by_resource(idp: FakeIssuer) -> None:
    validator = idp.validator()
    token = idp.token()
    await validator.validate(token, resource=RESOURCE)
    with pytest.raises(AuthError):
        await validator.validate(token, resource="https://gw.example.test/other")


async def test_token_cache_is_bounded(idp: FakeIssuer) -> None:
    validator = idp.validator(token_cache_size=3)
    for n in range(6):
        await validator.validate(idp.token(sub=f"user-{n}"), resource=RESOURCE)
    assert len(validator._cache) == 3


async def test_unknown_kids_refresh_keys_at_most_once_per_interval(idp: FakeIssuer) -> None:
    validator = idp.validator(jwks_refresh_min_interval=3600)
    await validator.validate(idp.token(), resource=RESOURCE)
    for n in range(10):
        with pytest.raises(AuthError):
            await validator.validate(idp.token(header={"kid": f"random-{n}"}), resource=RESOURCE)
    assert idp.jwks_fetches == 1


async def test_unknown_kid_triggers_one_refresh_after_interval(idp: FakeIssuer) -> None:
    validator = idp.validator(jwks_refresh_min_interval=0)
    await validator.validate(idp.token(), resource=RESOURCE)
    attacker = RSAKey.generate_key(2048, parameters={"kid": "attacker"})
    with pytest.raises(AuthError):
        await validator.validate(idp.token(key=attacker), resource=RESOURCE)
    assert idp.jwks_fetches == 2


async def test_rotated_signing_key_is_picked_up(idp: FakeIssuer) -> None:
    validator = idp.validator(jwks_refresh_min_interval=0)
    await validator.validate(idp.token(), resource=RESOURCE)
    new_key = RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})
    idp.keys.append(new_key)
    principal = await validator.validate(idp.token(key=new_key), resource=RESOURCE)
    assert principal.subject == "user-1"


async def test_symmetric_key_in_jwks_is_ignored(idp: FakeIssuer) -> None:
    from joserfc.jwk import OctKey

    shared = OctKey.import_key(b"0123456789abcdef0123456789abcdef", parameters={"kid": "oct"})
    idp.keys.append(shared)  # type: ignore[arg-type]
    token = hmac_token({"alg": "HS256", "kid": "oct", "typ": "at+jwt"}, idp.claims(), shared.raw_value)
    error = await _reject(idp, token, algorithms=["RS256"])
    assert error.reason == "token.alg"


async def test_unreachable_issuer_is_503(idp: FakeIssuer) -> None:
    idp.up = False
    error = await _reject(idp, idp.token())
    assert (error.status, error.reason) == (503, "auth.idp_unavailable")


async def test_keys_are_kept_when_issuer_goes_down(idp: FakeIssuer) -> None:
    validator = idp.validator(jwks_refresh_min_interval=0)
    await validator.validate(idp.token(), resource=RESOURCE)
    idp.up = False
    assert (await validator.validate(idp.token(sub="user-2"), resource=RESOURCE)).subject == "user-2"


async def test_metadata_with_foreign_issuer_is_refused(idp: FakeIssuer) -> None:
    idp.extra_metadata["issuer"] = "https://evil.example.test"
    error = await _reject(idp, idp.token())
    assert error.status == 503


async def test_start_loads_keys_before_first_request(idp: FakeIssuer) -> None:
    validator = idp.validator()
    await validator.start()
    assert idp.jwks_fetches == 1
    await validator.validate(idp.token(), resource=RESOURCE)
    assert idp.jwks_fetches == 1


async def test_discovery_falls_back_to_oidc_when_rfc8414_is_absent(idp: FakeIssuer) -> None:
    served = idp.handler

    def only_oidc(request: httpx.Request) -> httpx.Response:
        if "oauth-authorization-server" in request.url.path:
            return httpx.Response(404)
        return served(request)

    idp.handler = only_oidc  # type: ignore[method-assign]
    assert (await idp.validator().validate(idp.token(), resource=RESOURCE)).subject == "user-1"
