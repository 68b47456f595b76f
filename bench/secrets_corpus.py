"""A labelled corpus for secret detection: planted secrets in realistic files, and benign files.

Deterministic: the same seed gives the same files, byte for byte, so recall and
false-positive numbers can be compared between runs and between detectors. Secret
values are random strings in each format's alphabet (never real credentials), planted
into files of 16 formats (env, shell, INI, JSON, YAML, TOML, Python, JavaScript, Java
properties, XML, Dockerfile, Kubernetes manifest, .npmrc, .pypirc, log lines, curl
commands, Markdown). Benign files are the same formats full of what fools detectors:
hashes, UUIDs, commit ids, lockfile integrity strings, base64 images, placeholders,
templated and environment-read passwords, prose about tokens.

Each sample is `Sample(name, text, kind, span)`; `kind` is None for benign files and
`span` marks the planted secret (a detector finds it when it reports anything on the
lines the span covers).
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
WORDS = (
    "river", "orange", "castle", "winter", "falcon", "copper", "meadow", "silver", "harbor",
    "lantern", "maple", "thunder", "velvet", "summit", "pepper", "cobalt", "garden", "rocket",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    text: str
    kind: str | None
    span: tuple[int, int] | None = None

    def lines(self) -> tuple[int, int]:
        """1-based first and last line of the planted span."""
        assert self.span is not None
        first = self.text.count("\n", 0, self.span[0]) + 1
        return first, first + self.text.count("\n", self.span[0], self.span[1])


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def word(self) -> str:
        return self.rng.choice(WORDS)

    def password(self) -> str:
        shapes = [
            lambda: f"{self.word().capitalize()}{self.rng.randint(10, 9999)}{self.rng.choice('!@#$%&*')}",
            lambda: self.s(ALNUM + "!#%&*", self.rng.randint(12, 20)),
            lambda: f"{self.word()}-{self.word()}-{self.rng.randint(100, 999)}",
        ]
        return self.rng.choice(shapes)()

    def jwt(self) -> str:
        def enc(obj: object) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

        claims = {"sub": self.s(HEX, 12), "iat": self.rng.randint(1_600_000_000, 1_800_000_000)}
        return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc(claims)}.{self.s(B64URL, 43)}"

    def pem(self, label: str, lines: int = 6) -> str:
        body = "\n".join(self.s(B64, 64) for _ in range(lines))
        return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"

    def filler(self, fmt: str) -> list[str]:
        """Two or three ordinary lines of the format, so planted lines are not alone."""
        w = self.word()
        n = self.rng.randint(1, 65000)
        options = {
            "env": [f"APP_NAME={w}", f"PORT={n}", "LOG_LEVEL=info", f"FEATURE_{w.upper()}=true"],
            "shell": [f"export APP_NAME={w}", f"export PORT={n}", 'echo "starting"', "set -euo pipefail"],
            "ini": [f"region = eu-west-{self.rng.randint(1, 3)}", "output = json", f"name = {w}"],
            "yaml": [f"name: {w}", f"port: {n}", "replicas: 2", "debug: false"],
            "toml": [f'name = "{w}"', f"port = {n}", "debug = false"],
            "python": [f'APP_NAME = "{w}"', f"PORT = {n}", "DEBUG = False", "import os"],
            "js": [f"const appName = '{w}';", f"const port = {n};", "module.exports = config;"],
            "properties": [f"app.name={w}", f"server.port={n}", "logging.level=INFO"],
            "xml": [f"<name>{w}</name>", f"<port>{n}</port>", "<enabled>true</enabled>"],
            "docker": ["FROM python:3.11-slim", "WORKDIR /app", f"EXPOSE {n}", "COPY . ."],
            "log": [f"2026-03-0{self.rng.randint(1, 9)}T10:00:00Z INFO request served in {n}ms"],
            "md": [
                f"## {w.capitalize()}",
                f"The service listens on port {n}.",
                "See the configuration guide.",
            ],
            "npmrc": ["registry=https://registry.npmjs.org/", "save-exact=true"],
        }
        pool = options.get(fmt, options["env"])
        return self.rng.sample(pool, min(len(pool), 2))


# kind -> list of (format, builder(gen) -> (line before, secret, line after))
Builder = Callable[[_Gen], tuple[str, str, str]]


def _planted() -> dict[str, list[tuple[str, Builder]]]:
    def aws_secret(fmt: str) -> Builder:
        forms = {
            "env": ("AWS_SECRET_ACCESS_KEY=", ""),
            "shell": ('export AWS_SECRET_ACCESS_KEY="', '"'),
            "ini": ("aws_secret_access_key = ", ""),
            "json": ('    "SecretAccessKey": "', '",'),
            "yaml": ("  secretAccessKey: ", ""),
            "python": ('aws_secret_access_key = "', '"'),
        }
        pre, post = forms[fmt]
        return lambda g: (pre, g.s(B64, 40), post)

    def password(fmt: str) -> Builder:
        forms = {
            "env": ("DB_PASSWORD=", ""),
            "yaml": ("  password: ", ""),
            "json": ('  "password": "', '",'),
            "ini": ("password = ", ""),
            "properties": ("spring.datasource.password=", ""),
            "xml": ("<password>", "</password>"),
            "python": ('DATABASE_PASSWORD = "', '"'),
            "toml": ('password = "', '"'),
        }
        pre, post = forms[fmt]
        return lambda g: (pre, g.password(), post)

    def conn(fmt: str) -> Builder:
        def build(g: _Gen) -> tuple[str, str, str]:
            scheme = g.rng.choice(["postgres", "mysql", "mongodb+srv", "redis", "amqp"])
            pw = g.password().replace("@", "9").replace("/", "8").replace(":", "7")
            pre = {"env": "DATABASE_URL=", "yaml": "  url: ", "python": 'DSN = "', "js": "const url = '"}[fmt]
            post = {"env": "", "yaml": "", "python": '"', "js": "';"}[fmt]
            return f"{pre}{scheme}://app_{g.word()}:", pw, f"@{g.word()}.internal:5432/{g.word()}{post}"

        return build

    def header(fmt: str) -> Builder:
        def build(g: _Gen) -> tuple[str, str, str]:
            token = g.s(ALNUM, g.rng.randint(32, 48))
            if fmt == "shell":
                return 'curl -H "Authorization: Bearer ', token, '" https://api.example.test/v1/items'
            return f"{g.rng.choice(['GET', 'POST'])} /v1/items authorization=Bearer ", token, " status=200"

        return build

    def jwt(fmt: str) -> Builder:
        pre, post = {"log": ("DEBUG auth header: Bearer ", ""), "json": ('  "id_token": "', '"')}[fmt]
        return lambda g: (pre, g.jwt(), post)

    def prefixed(
        prefix: str, alphabet: str, n: int, forms: dict[str, tuple[str, str]]
    ) -> list[tuple[str, Builder]]:
        out: list[tuple[str, Builder]] = []
        for fmt, (pre, post) in forms.items():
            out.append((fmt, lambda g, pre=pre, post=post: (pre, prefix + g.s(alphabet, n), post)))
        return out

    def slack(g: _Gen) -> tuple[str, str, str]:
        return (
            "SLACK_BOT_TOKEN=",
            f"xoxb-{g.s(string.digits, 12)}-{g.s(string.digits, 13)}-{g.s(ALNUM, 24)}",
            "",
        )

    def gcp(g: _Gen) -> tuple[str, str, str]:
        key = g.pem("PRIVATE KEY").replace("\n", "\\n")
        pre = '{\n  "type": "service_account",\n  "project_id": "demo-123",\n  "private_key_id": "'
        return pre, f'{g.s(HEX, 40)}",\n  "private_key": "{key}', '",\n  "client_email": "svc@demo.iam"\n}'

    def azure_conn(g: _Gen) -> tuple[str, str, str]:
        key = base64.b64encode(g.rng.randbytes(64)).decode()
        return (
            f"AZURE_STORAGE=DefaultEndpointsProtocol=https;AccountName={g.word()};AccountKey=",
            key,
            (";EndpointSuffix=core.windows.net"),
        )

    def azure_sas(g: _Gen) -> tuple[str, str, str]:
        sig = quote(base64.b64encode(g.rng.randbytes(32)).decode(), safe="")
        return (
            f"https://{g.word()}.blob.core.windows.net/c/f.csv?sv=2022-11-02&se=2026-01-01&sp=r&sig=",
            sig,
            "",
        )

    def npm(g: _Gen) -> tuple[str, str, str]:
        return "//registry.npmjs.org/:_authToken=", "npm_" + g.s(ALNUM, 36), ""

    def pypi(g: _Gen) -> tuple[str, str, str]:
        return "[pypi]\nusername = __token__\npassword = ", "pypi-AgEIcHlwaS5vcmc" + g.s(B64URL, 120), ""

    def ssh(g: _Gen) -> tuple[str, str, str]:
        return "", g.pem("OPENSSH PRIVATE KEY"), ""

    def pgp(g: _Gen) -> tuple[str, str, str]:
        return "", g.pem("PGP PRIVATE KEY BLOCK"), ""

    def b64_wrapped(g: _Gen) -> tuple[str, str, str]:
        inner = f"postgres://app:{g.password()}@db.internal:5432/prod"
        pre = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  url: "
        return pre, base64.b64encode(inner.encode()).decode(), ""

    def url_encoded(g: _Gen) -> tuple[str, str, str]:
        inner = f"mysql://root:{g.password()}@10.0.0.{g.rng.randint(2, 250)}/app"
        return "GET /health?dsn=", quote(inner, safe=""), " HTTP/1.1 200"

    return {
        "aws-access-key": prefixed(
            "AKIA",
            string.ascii_uppercase + string.digits,
            16,
            {
                "ini": ("aws_access_key_id = ", ""),
                "env": ("AWS_ACCESS_KEY_ID=", ""),
                "json": ('"AccessKeyId": "', '"'),
            },
        ),
        "aws-secret-key": [(f, aws_secret(f)) for f in ("env", "shell", "ini", "json", "yaml", "python")],
        "password": [
            (f, password(f)) for f in ("env", "yaml", "json", "ini", "properties", "xml", "python", "toml")
        ],
        "connection-string": [(f, conn(f)) for f in ("env", "yaml", "python", "js")],
        "bearer-token": [(f, header(f)) for f in ("shell", "log")],
        "jwt": [(f, jwt(f)) for f in ("log", "json")],
        "github-token": prefixed(
            "ghp_", ALNUM, 36, {"env": ("GITHUB_TOKEN=", ""), "yaml": ("  token: ", "")}
        ),
        "slack-token": [("env", slack)],
        "stripe-key": prefixed(
            "sk_live_",
            ALNUM,
            99,
            {"env": ("STRIPE_SECRET_KEY=", ""), "js": ("const stripe = require('stripe')('", "');")},
        ),
        "gcp-service-account": [("json", gcp)],
        "azure-connection-string": [("env", azure_conn)],
        "azure-sas": [("md", azure_sas)],
        "npm-token": [("npmrc", npm)],
        "pypi-token": [("ini", pypi)],
        "ssh-private-key": [("docker", ssh)],
        "pgp-private-key": [("md", pgp)],
        "base64-wrapped": [("yaml", b64_wrapped)],
        "url-encoded": [("log", url_encoded)],
    }


EXTENSIONS = {
    "env": ".env", "shell": ".sh", "ini": ".ini", "json": ".json", "yaml": ".yaml", "toml": ".toml",
    "python": ".py", "js": ".js", "properties": ".properties", "xml": ".xml", "docker": ".dockerfile",
    "log": ".log", "md": ".md", "npmrc": ".npmrc",
}  # fmt: skip


def planted(seed: int = 7, per_kind: int = 12) -> Iterator[Sample]:
    """`per_kind` files for each kind of secret, cycling through the formats it occurs in."""
    g = _Gen(seed)
    for kind, builders in _planted().items():
        for i in range(per_kind):
            fmt, build = builders[i % len(builders)]
            before, secret, after = build(g)
            head = "\n".join(g.filler(fmt))
            tail = "\n".join(g.filler(fmt))
            text = f"{head}\n{before}{secret}{after}\n{tail}\n"
            start = len(head) + 1 + len(before)
            yield Sample(f"{kind}-{i}{EXTENSIONS.get(fmt, '.txt')}", text, kind, (start, start + len(secret)))


def _benign_lines(g: _Gen) -> dict[str, list[Callable[[], str]]]:
    sha = lambda: g.s(HEX, 40)  # noqa: E731
    return {
        "python": [
            lambda: "password = getpass.getpass('Password: ')",
            lambda: "def connect(host: str, user: str, password: str | None = None) -> Connection:",
            lambda: "    return pool.connect(host=host, user=user, password=password)",
            lambda: f'COMMIT = "{sha()}"',
            lambda: f'CHECKSUM = "{g.s(HEX, 64)}"',
            lambda: f'REQUEST_ID = "{g.s(HEX, 8)}-{g.s(HEX, 4)}-{g.s(HEX, 4)}-{g.s(HEX, 4)}-{g.s(HEX, 12)}"',
            lambda: "api_key = os.environ['SERVICE_API_KEY']",
            lambda: "token = request.headers.get('Authorization', '').removeprefix('Bearer ')",
            lambda: f"    '{g.word()}_{g.word()}': {g.rng.randint(0, 999)},",
            lambda: "# The secret is read from the vault at start-up; never hard-code it.",
        ],
        "yaml": [
            lambda: "  password: ${DB_PASSWORD}",
            lambda: "  password: {{ .Values.postgres.password }}",
            lambda: "      secretKeyRef:\n        name: db-credentials\n        key: password",
            lambda: f"  image: registry.example.test/{g.word()}@sha256:{g.s(HEX, 64)}",
            lambda: f"  checksum/config: {g.s(HEX, 64)}",
            lambda: f"  commit: {sha()}",
        ],
        "json": [
            lambda: f'    "integrity": "sha512-{base64.b64encode(g.rng.randbytes(64)).decode()}",',
            lambda: (
                f'    "resolved": "https://registry.npmjs.org/{g.word()}/-/{g.word()}-{g.rng.randint(0, 9)}",'
            ),
            lambda: f'  "id": "{g.s(HEX, 24)}",',
            lambda: '  "password": "",',
            lambda: (
                f'  "thumbnail": "data:image/png;base64,{base64.b64encode(g.rng.randbytes(90)).decode()}",'
            ),
        ],
        "env": [
            lambda: "DB_PASSWORD=",
            lambda: "DB_PASSWORD=changeme",
            lambda: "API_KEY=<your api key>",
            lambda: "SECRET_KEY=${SECRET_KEY:?must be set}",
            lambda: f"BUILD_SHA={sha()}",
        ],
        "md": [
            lambda: "Send the token in the `Authorization: Bearer <token>` header.",
            lambda: "Set `password:` to the value your administrator gave you.",
            lambda: "Rotate AWS access keys every 90 days and never commit them.",
            lambda: f"Fixed in commit {sha()[:12]} ({g.word()} handling).",
            lambda: "Connection strings look like `postgres://user:password@host/db`.",
        ],
        "js": [
            lambda: "const password = process.env.DB_PASSWORD;",
            lambda: "headers: { Authorization: `Bearer ${token}` },",
            lambda: f"const hash = '{g.s(HEX, 64)}';",
            lambda: f"export const {g.word()}Id = '{g.s(ALNUM, 20)}';",
        ],
    }


def benign(seed: int = 11, count: int = 1000) -> Iterator[Sample]:
    """`count` files of code, config and docs with no secret in them."""
    g = _Gen(seed)
    pools = _benign_lines(g)
    formats = sorted(pools)
    ext = {"python": ".py", "yaml": ".yaml", "json": ".json", "env": ".env", "md": ".md", "js": ".js"}
    for i in range(count):
        fmt = formats[i % len(formats)]
        lines = [g.rng.choice(pools[fmt])() for _ in range(g.rng.randint(8, 30))]
        yield Sample(f"benign-{i}{ext[fmt]}", "\n".join(lines) + "\n", None)
