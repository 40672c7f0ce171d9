"""The files under deploy/, as an administrator installs them: the systemd units pass
`systemd-analyze verify`, the nginx site passes `nginx -t`, the secrets file names only real
settings, and the whole production set-up — PostgreSQL made by deploy/postgres.sql, the units'
own ExecStart lines, nginx with TLS in front — carries a signed message, delivers a push, runs
the scheduler and lets an admin log in to the console over HTTPS.

Paths are substituted as the install would differ here: /opt/yishiting → this checkout (its
virtualenv), /etc/yishiting/config.toml → a temporary copy of deploy/config.toml.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.cookiejar
import ipaddress
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, free_port, wait_healthy
from processes import end
from sqlalchemy import select
from test_layouts import announce_and_check_delivery, stop, wait_for

from bot.config import SECTIONS, load_settings
from bot.db import Database
from bot.media.store import media_folder
from bot.spool import spool_folder
from models import JobRun

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ["yishiting-web.service", "yishiting-worker@.service", "yishiting-scheduler.service"]
BACKUP = ["yishiting-backup.service", "yishiting-backup.timer"]


def installed_text(text: str, config: Path | None = None) -> str:
    """A deploy file with the install paths of this machine."""
    text = text.replace("/opt/yishiting/.venv", sys.prefix).replace("/opt/yishiting", str(ROOT))
    if config is not None:
        text = text.replace("/etc/yishiting/config.toml", str(config))
    return text


def service_section(unit: str) -> dict[str, list[str]]:
    """The [Service] directives of a unit file: name → values, in order."""
    found: dict[str, list[str]] = {}
    section = ""
    for line in (DEPLOY / unit).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def env_file(path: Path) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile= reads them (comments skipped)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


# --- systemd -----------------------------------------------------------------------------


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze not found (install Debian's systemd)")
    names = []
    for unit in UNITS + BACKUP:
        name = unit.replace("@.", "@1.")  # a template is verified as one of its instances
        text = installed_text((DEPLOY / unit).read_text(encoding="utf-8"))
        (tmp_path / name).write_text(text, encoding="utf-8")
        names.append(f"./{name}")
    result = subprocess.run(
        [analyze, "verify", "--man=no", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    complaints = [line for line in result.stderr.splitlines() if "yishiting" in line]
    assert result.returncode == 0 and not complaints, result.stderr


def test_every_unit_runs_as_the_service_user_with_secrets_from_the_env_file() -> None:
    for unit in [*UNITS, BACKUP[0]]:
        service = service_section(unit)
        assert service["User"] == ["yishiting"], unit
        assert service["EnvironmentFile"] == ["/etc/yishiting/yishiting.env"], unit
        assert service["Restart"] == ["on-failure"], unit
        assert service["NoNewPrivileges"] == ["yes"] and service["ProtectSystem"] == ["strict"]
        assert service["PrivateTmp"] == ["yes"], unit


def test_the_env_example_names_only_settings_and_overrides_the_config_file() -> None:
    example = env_file(DEPLOY / "yishiting.env.example")
    keys = {f"YISHITING_{s}_{f}".upper() for s, c in SECTIONS.items() for f in c.__annotations__}
    assert set(example) <= keys, set(example) - keys
    settings = load_settings(DEPLOY / "config.toml", environ=example)
    assert settings.app.mode == "production"
    assert settings.app.public_url.startswith("https://")
    assert settings.app.secret_key == example["YISHITING_APP_SECRET_KEY"]
    assert settings.wechat.token == example["YISHITING_WECHAT_TOKEN"]
    assert settings.app.database_url.startswith("postgresql+psycopg://yishiting@/yishiting")


def test_every_folder_the_services_write_is_under_their_one_writable_path() -> None:
    """The units mount the system read-only but /var/lib/yishiting: the spool (PostgreSQL
    down) and the media folder must be there, not next to /etc/yishiting/config.toml."""
    example = env_file(DEPLOY / "yishiting.env.example")
    settings = dataclasses.replace(
        load_settings(DEPLOY / "config.toml", environ=example),
        source="/etc/yishiting/config.toml",
    )
    for unit in UNITS:
        assert service_section(unit)["ReadWritePaths"] == ["/var/lib/yishiting"], unit
    writable = Path("/var/lib/yishiting")
    assert spool_folder(settings).is_relative_to(writable), spool_folder(settings)
    assert media_folder(settings).is_relative_to(writable), media_folder(settings)


# --- nginx --------------------------------------------------------------------------------


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Nginx:
    """deploy/nginx.conf inside a throwaway nginx prefix: own ports, certificate and logs."""

    def __init__(self, folder: Path, *, upstream: int = 8000) -> None:
        binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
        if not binary:
            pytest.skip("nginx not found (install Debian's nginx)")
        self.binary = binary
        self.folder = folder
        folder.mkdir(exist_ok=True)
        self.cert, key = self_signed(folder)
        self.https_port, self.http_port = free_port(), free_port()
        site = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
        site = re.sub(r"/etc/letsencrypt/live/[^;]*/fullchain\.pem", str(self.cert), site)
        site = re.sub(r"/etc/letsencrypt/live/[^;]*/privkey\.pem", str(key), site)
        site = site.replace("/var/log/nginx/", f"{folder}/")
        site = site.replace("listen 443", f"listen {self.https_port}")
        site = site.replace("listen [::]:443", f"listen [::]:{self.https_port}")
        site = site.replace("listen 80", f"listen {self.http_port}")
        site = site.replace("listen [::]:80", f"listen [::]:{self.http_port}")
        site = site.replace("127.0.0.1:8000", f"127.0.0.1:{upstream}")
        (folder / "site.conf").write_text(site, encoding="utf-8")
        (folder / "nginx.conf").write_text(
            f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
            "events {}\n"
            f"http {{\n  access_log {folder}/access.log;\n  include {folder}/site.conf;\n}}\n",
            encoding="utf-8",
        )

    def command(self, *args: str) -> list[str]:
        return [self.binary, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"), *args]


def test_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    nginx = Nginx(tmp_path / "nginx")
    result = subprocess.run(nginx.command("-t"), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


# --- the whole set-up ----------------------------------------------------------------------


@pytest.fixture
def production_database(postgres_cluster: Any) -> str:
    """The role and database deploy/postgres.sql makes; the URL the services use."""
    sibling = Path(postgres_cluster.initdb).parent / "psql"
    psql = str(sibling) if sibling.exists() else shutil.which("psql")
    assert psql, "psql comes with PostgreSQL"
    socket, port = str(postgres_cluster.socket), str(postgres_cluster.port)
    connect = ["-h", socket, "-p", port, "-U", "test", "-d", "postgres"]
    result = subprocess.run(
        # The documented command, as the cluster's superuser instead of sudo -u postgres.
        [psql, *connect, "-v", "ON_ERROR_STOP=1", "-f", str(DEPLOY / "postgres.sql")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # The example URL, on the test cluster's socket (peer authentication there is "trust").
    return f"postgresql+psycopg://yishiting@/yishiting?host={socket}&port={port}"


def exec_start(unit: str, config: Path, **replace: str) -> list[str]:
    [line] = service_section(unit)["ExecStart"]
    line = installed_text(line, config).replace("%i", "1")
    for old, new in replace.items():
        line = line.replace(old, new)
    return shlex.split(line)


@pytest.fixture
def services_env(
    tmp_path: Path, production_database: str, fake: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """deploy/config.toml installed, the env example filled in and loaded, as systemd would."""
    config = tmp_path / "config.toml"
    config.write_text(installed_text((DEPLOY / "config.toml").read_text(encoding="utf-8")))
    secrets = env_file(DEPLOY / "yishiting.env.example")
    secrets.update(
        YISHITING_APP_SECRET_KEY="a-long-random-value-for-the-test",
        YISHITING_APP_DATABASE_URL=production_database,
        YISHITING_WECHAT_TOKEN=TOKEN,
        YISHITING_WECHAT_APP_SECRET="fake_secret",
        # Test-only: the fake WeChat, and quicker loops.
        YISHITING_WECHAT_APP_ID="wx_fake_app",
        YISHITING_WECHAT_API_BASE_URL=fake.url,
        YISHITING_DELIVERY_POLL_SECONDS="0.2",
        YISHITING_SCHEDULER_SWEEP_SECONDS="1",
    )
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("YISHITING_CONFIG", raising=False)
    yield config


def start_unit(unit: str, config: Path, **replace: str) -> subprocess.Popen[bytes]:
    service = service_section(unit)
    env = dict(os.environ)
    for assignment in service.get("Environment", []):
        key, value = installed_text(assignment, config).split("=", 1)
        env[key] = value
    [workdir] = service["WorkingDirectory"]
    return subprocess.Popen(
        exec_start(unit, config, **replace),
        cwd=installed_text(workdir),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def init(config: Path) -> str:
    """`yishiting init`, the documented first step; the console password it prints."""
    yishiting = str(Path(sys.prefix) / "bin" / "yishiting")
    result = subprocess.run(
        [yishiting, "init", "--config", str(config)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    match = re.search(r"console account created: admin / (\S+)", result.stdout)
    assert match, result.stdout
    return match.group(1)


def test_the_documented_production_setup_behind_nginx(
    tmp_path: Path, services_env: Path, fake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = services_env
    password = init(config)
    port = free_port()
    nginx = Nginx(tmp_path / "nginx", upstream=port)
    public = f"https://127.0.0.1:{nginx.https_port}"
    monkeypatch.setenv("YISHITING_APP_PUBLIC_URL", public)
    monkeypatch.setenv("SSL_CERT_FILE", str(nginx.cert))  # urllib trusts our certificate
    web = start_unit("yishiting-web.service", config, **{"127.0.0.1:8000": f"127.0.0.1:{port}"})
    workers = [start_unit("yishiting-worker@.service", config) for _ in range(2)]
    scheduler = start_unit("yishiting-scheduler.service", config)
    proxy = subprocess.Popen(
        nginx.command("-g", "daemon off;"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", web, seconds=60)
        wait_healthy(public, proxy)
        announce_and_check_delivery(public, config, fake)
        wait_for(lambda: sweeps(), 20, "a sweep by the scheduler")
        assert_console_login_over_https(public, password)
        assert_city_platforms_reach_the_api(public)
        assert_plain_http_redirects(nginx.http_port)
        assert_nightly_backup_runs(tmp_path / "backups", config)
    finally:
        try:
            stop(web, *workers, scheduler)
        finally:
            end(proxy)


def sweeps() -> list[JobRun]:
    db = Database(load_settings(None))  # the database the env file names
    with db.session(read_only=True) as session:
        found = list(session.scalars(select(JobRun).where(JobRun.job == "sweep")))
    db.dispose()
    return found


def assert_console_login_over_https(public: str, password: str) -> None:
    """Through nginx the app knows it is on HTTPS (X-Forwarded-Proto/Host via ProxyFix):
    the session cookie is Secure and the CSRF referrer check on HTTPS passes."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    with opener.open(f"{public}/admin/login", timeout=10) as page:
        html = page.read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert token, html
    form = urllib.parse.urlencode(
        {"username": "admin", "password": password, "csrf_token": token.group(1)}
    ).encode()
    request = urllib.request.Request(
        f"{public}/admin/login", data=form, headers={"Referer": f"{public}/admin/login"}
    )
    try:
        opener.open(request, timeout=10)
        raise AssertionError("the login did not redirect")
    except urllib.error.HTTPError as answer:
        assert answer.code == 303, answer.read().decode()
    assert all(cookie.secure for cookie in jar), [c.name for c in jar]
    with opener.open(f"{public}/admin", timeout=10) as dashboard:
        assert "工作台" in dashboard.read().decode()


def assert_city_platforms_reach_the_api(public: str) -> None:
    """nginx proxies the open API and Open311: their documents answer without a key."""
    with urllib.request.urlopen(f"{public}/api/v1/openapi.json", timeout=10) as document:
        assert json.loads(document.read())["openapi"].startswith("3.1")
    with urllib.request.urlopen(f"{public}/open311/v2/services.json", timeout=10) as services:
        assert "service_code" in json.loads(services.read())[0]


def assert_plain_http_redirects(http_port: int) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{http_port}/wechat")
    try:
        urllib.request.build_opener(NoRedirect()).open(request, timeout=10)
        raise AssertionError("plain HTTP was served")
    except urllib.error.HTTPError as answer:
        assert answer.code == 301
        assert answer.headers["Location"].startswith("https://")


def assert_nightly_backup_runs(folder: Path, config: Path) -> None:
    """yishiting-backup.service's commands, as systemd runs them (%% is a plain %)."""
    folder.mkdir()
    service = service_section("yishiting-backup.service")
    for line in service["ExecStart"] + service["ExecStartPost"]:
        line = installed_text(line, config).replace("%%", "%")
        line = line.replace("/var/lib/yishiting/backups", str(folder))
        result = subprocess.run(shlex.split(line), capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    [dump] = folder.glob("yishiting-*.dump")
    assert dump.name == f"yishiting-{dt.date.today().isoformat()}.dump"
    assert dump.read_bytes().startswith(b"PGDMP")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
