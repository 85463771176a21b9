"""Client setup tests: credentials, mutual TLS, API URL forms and the environment.

Mutual TLS runs against a second emulator started with --mtls. Tests that
need a URL without a server use a closed loopback port or a name the client
rejects before it sends anything.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import opstatus

NAMESPACE = "demo"
LOAD_BALANCER = "shop-frontend"
SEEDED_OP_ID = 101
SEEDED_SITES = 9
STATUS_PATH = (
    f"/api/cdn/namespaces/{NAMESPACE}/http_loadbalancer/get-service-operation-status"
)
# 192.0.2.0/24 is reserved for documentation. The client rejects these URLs
# when it is created, so nothing is sent to them.
NON_LOOPBACK_HTTP_URLS = ["http://192.0.2.10/api", "http://acme.example.com"]


def _get_seeded(client: opstatus.Client) -> opstatus.ServiceOperationStatus:
    return client.get_status(
        namespace=NAMESPACE, name=LOAD_BALANCER, service_op_id=SEEDED_OP_ID
    )


def _attempts(emulator) -> int:
    return sum(1 for entry in emulator.requests() if entry["path"] == STATUS_PATH)


def _mtls_client(emulator, **settings: Any) -> opstatus.Client:
    """Create a client for the mTLS emulator without credentials unless given."""
    defaults: dict[str, Any] = {
        "api_url": emulator.url,
        "ca_file": emulator.ca_file,
        "use_environment": False,
        "max_attempts": 1,
    }
    return opstatus.Client(**{**defaults, **settings})


def _failure(call: Callable[[], Any]) -> opstatus.OpStatusError | None:
    """Run ``call`` and return the OpStatusError it raised, or None.

    Tests check the class by name, so that a failing assert never prints a
    message that might contain a password.
    """
    try:
        call()
    except opstatus.OpStatusError as exc:
        return exc
    return None


def _run_openssl(arguments: list[str], directory: Path, **environment: str) -> None:
    subprocess.run(
        ["openssl", *arguments],
        cwd=directory,
        env={**os.environ, **environment},
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def other_ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A self-signed CA that did not sign any emulator certificate."""
    directory = tmp_path_factory.mktemp("other-ca")
    _run_openssl(
        [
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "other-ca-key.pem",
            "-out",
            "other-ca.pem",
            "-subj",
            "/CN=opstatus test CA that signed nothing",
            "-days",
            "2",
        ],
        directory,
    )
    return str(directory / "other-ca.pem")


@dataclass
class EncryptedKey:
    """A PEM key file encrypted with AES-256 and its password, which repr leaves out."""

    path: str
    password: str = field(repr=False)


@pytest.fixture(scope="module")
def encrypted_key(
    mtls_emulator, tmp_path_factory: pytest.TempPathFactory
) -> EncryptedKey:
    """The mTLS client key encrypted with a random password."""
    directory = tmp_path_factory.mktemp("encrypted-key")
    password = "KEY-PASSWORD-" + secrets.token_hex(12)
    _run_openssl(
        [
            "pkey",
            "-in",
            mtls_emulator.client_key,
            "-aes256",
            "-passout",
            "env:OPSTATUS_TEST_KEY_PASSWORD",
            "-out",
            "client-key-encrypted.pem",
        ],
        directory,
        OPSTATUS_TEST_KEY_PASSWORD=password,
    )
    return EncryptedKey(str(directory / "client-key-encrypted.pem"), password)


# Mutual TLS


def test_mtls_p12_succeeds(mtls_emulator):
    with _mtls_client(
        mtls_emulator,
        p12_file=mtls_emulator.client_p12,
        p12_password=mtls_emulator.p12_password,
    ) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES
    entry = mtls_emulator.requests()[-1]
    assert entry["auth_ok"] is True
    assert "Authorization" not in entry["headers"]


def test_mtls_pem_succeeds(mtls_emulator):
    with _mtls_client(
        mtls_emulator,
        cert_file=mtls_emulator.client_cert,
        key_file=mtls_emulator.client_key,
    ) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


def test_mtls_encrypted_key_succeeds(mtls_emulator, encrypted_key):
    with _mtls_client(
        mtls_emulator,
        cert_file=mtls_emulator.client_cert,
        key_file=encrypted_key.path,
        key_password=encrypted_key.password,
    ) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


def test_mtls_wrong_key_password(mtls_emulator, encrypted_key):
    wrong_password = "WRONG-KEY-PASSWORD-" + secrets.token_hex(8)

    with _mtls_client(
        mtls_emulator,
        cert_file=mtls_emulator.client_cert,
        key_file=encrypted_key.path,
        key_password=wrong_password,
        max_attempts=4,
    ) as client:
        error = _failure(lambda: _get_seeded(client))

    assert error is not None
    leaked = wrong_password in str(error) or wrong_password in repr(error)
    assert not leaked, "the key password appears in the exception text"
    assert type(error).__name__ == "ConfigurationError"
    assert error.code == 2
    assert "key_password" in error.message


def test_mtls_wrong_p12_password(mtls_emulator):
    wrong_password = "WRONG-P12-PASSWORD-" + secrets.token_hex(8)
    mtls_emulator.reset()

    with _mtls_client(
        mtls_emulator,
        p12_file=mtls_emulator.client_p12,
        p12_password=wrong_password,
        max_attempts=4,
    ) as client:
        started = time.monotonic()
        error = _failure(lambda: _get_seeded(client))
        seconds = time.monotonic() - started

    assert error is not None
    leaked = wrong_password in str(error) or wrong_password in repr(error)
    assert not leaked, "the P12 password appears in the exception text"
    assert type(error).__name__ == "ConfigurationError"
    assert error.code == 2
    assert "p12_file" in error.message
    assert "p12_password" in error.message
    # A certificate that cannot be loaded is not retried.
    assert seconds < 0.5
    assert _attempts(mtls_emulator) == 0


def test_mtls_without_certificate(mtls_emulator):
    with _mtls_client(mtls_emulator, api_token=mtls_emulator.token) as client:
        with pytest.raises(opstatus.TransportError) as caught:
            _get_seeded(client)

    assert caught.value.code == 3
    assert caught.value.http_status is None


def test_mtls_auth_certificate_wins(mtls_emulator):
    with _mtls_client(
        mtls_emulator,
        api_token="token-that-is-not-sent",
        p12_file=mtls_emulator.client_p12,
        p12_password=mtls_emulator.p12_password,
        auth="certificate",
    ) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES
    entry = mtls_emulator.requests()[-1]
    assert "Authorization" not in entry["headers"]


def test_mtls_auth_token_wins(mtls_emulator):
    # With auth="token" no client certificate is sent, so the mTLS
    # emulator ends the handshake.
    with _mtls_client(
        mtls_emulator,
        api_token=mtls_emulator.token,
        p12_file=mtls_emulator.client_p12,
        p12_password=mtls_emulator.p12_password,
        auth="token",
    ) as client:
        with pytest.raises(opstatus.TransportError):
            _get_seeded(client)


def test_mtls_wrong_ca_rejected(mtls_emulator, other_ca_file):
    with _mtls_client(
        mtls_emulator,
        p12_file=mtls_emulator.client_p12,
        p12_password=mtls_emulator.p12_password,
        ca_file=other_ca_file,
    ) as client:
        with pytest.raises(opstatus.TransportError) as caught:
            _get_seeded(client)

    assert caught.value.code == 3
    assert "certificate" in caught.value.message
    assert "ca_file" in caught.value.message


def test_mtls_system_ca_rejected(mtls_emulator):
    with _mtls_client(
        mtls_emulator,
        p12_file=mtls_emulator.client_p12,
        p12_password=mtls_emulator.p12_password,
        ca_file=None,
    ) as client:
        with pytest.raises(opstatus.TransportError) as caught:
            _get_seeded(client)

    assert "certificate" in caught.value.message


def test_token_wrong_ca_rejected(emulator, other_ca_file):
    with emulator.client(ca_file=other_ca_file) as client:
        with pytest.raises(opstatus.TransportError) as caught:
            _get_seeded(client)

    assert "certificate" in caught.value.message
    assert _attempts(emulator) == 0


def test_ca_file_not_pem(emulator, tmp_path):
    not_pem = tmp_path / "not-a-ca.pem"
    not_pem.write_text("this is not a certificate\n")

    with emulator.client(ca_file=not_pem) as client:
        with pytest.raises(opstatus.ConfigurationError) as caught:
            _get_seeded(client)

    assert "ca_file" in caught.value.message
    assert _attempts(emulator) == 0


# Credential settings


def test_config_p12_without_password(mtls_emulator):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        _mtls_client(mtls_emulator, p12_file=mtls_emulator.client_p12)

    assert caught.value.code == 2
    assert "p12_file" in caught.value.message
    assert "p12_password" in caught.value.message


def test_config_cert_without_key(mtls_emulator):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        _mtls_client(mtls_emulator, cert_file=mtls_emulator.client_cert)

    assert "cert_file" in caught.value.message
    assert "key_file" in caught.value.message


def test_config_key_without_cert(mtls_emulator):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        _mtls_client(mtls_emulator, key_file=mtls_emulator.client_key)

    assert "key_file" in caught.value.message
    assert "cert_file" in caught.value.message


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("p12_file", "p12_file"),
        ("cert_file", "cert_file"),
        ("key_file", "key_file"),
        ("ca_file", "ca_file"),
    ],
)
def test_config_missing_file(mtls_emulator, tmp_path, setting, named):
    missing = str(tmp_path / "no-such-file.pem")
    settings: dict[str, Any] = {
        "p12_file": {"p12_file": missing, "p12_password": "placeholder"},
        "cert_file": {"cert_file": missing, "key_file": mtls_emulator.client_key},
        "key_file": {"cert_file": mtls_emulator.client_cert, "key_file": missing},
        "ca_file": {"api_token": "placeholder-token", "ca_file": missing},
    }[setting]

    with pytest.raises(opstatus.ConfigurationError) as caught:
        _mtls_client(mtls_emulator, **settings)

    assert named in caught.value.message
    assert missing in caught.value.message


def test_config_directory_as_file(mtls_emulator, tmp_path):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        _mtls_client(
            mtls_emulator, cert_file=tmp_path, key_file=mtls_emulator.client_key
        )

    assert "cert_file" in caught.value.message
    assert "directory" in caught.value.message


def test_config_token_and_certificate(mtls_emulator):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        _mtls_client(
            mtls_emulator,
            api_token="placeholder-token",
            p12_file=mtls_emulator.client_p12,
            p12_password=mtls_emulator.p12_password,
        )

    assert caught.value.code == 2
    assert "api_token" in caught.value.message
    assert "p12_file" in caught.value.message
    assert "auth" in caught.value.message


def test_config_p12_and_pem(mtls_emulator):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        _mtls_client(
            mtls_emulator,
            p12_file=mtls_emulator.client_p12,
            p12_password=mtls_emulator.p12_password,
            cert_file=mtls_emulator.client_cert,
            key_file=mtls_emulator.client_key,
        )

    assert "p12_file" in caught.value.message
    assert "cert_file" in caught.value.message


def test_config_auth_unknown_value(emulator):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        emulator.client(auth="password")

    assert "auth" in caught.value.message
    assert "password" in caught.value.message


def test_config_auth_token_without_token(mtls_emulator):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        _mtls_client(
            mtls_emulator,
            p12_file=mtls_emulator.client_p12,
            p12_password=mtls_emulator.p12_password,
            auth="token",
        )

    assert "api_token" in caught.value.message


def test_config_no_credentials(emulator):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        emulator.client(api_token=None)

    assert "api_token" in caught.value.message
    assert "p12_file" in caught.value.message
    assert "cert_file" in caught.value.message


@pytest.mark.parametrize(
    "token",
    ["token with space", "token\r\nX-Injected: 1", "t\u00f6ken", ""],
    ids=["space", "line-break", "non-ascii", "empty"],
)
def test_config_token_rejected(emulator, token):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        emulator.client(api_token=token)

    assert "api_token" in caught.value.message
    assert _attempts(emulator) == 0


# API URL forms


@pytest.mark.parametrize("suffix", ["", "/", "/api", "/api/"])
def test_url_suffix_accepted(emulator, suffix):
    with emulator.client(api_url=emulator.url + suffix) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES
    assert emulator.requests()[-1]["path"] == STATUS_PATH


def test_url_without_scheme(emulator):
    without_scheme = emulator.url.removeprefix("https://")

    with emulator.client(api_url=without_scheme + "/api") as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


def test_url_ipv6_loopback(ipv6_emulator):
    assert ipv6_emulator.url.startswith("https://[::1]:")

    with ipv6_emulator.client(api_url=ipv6_emulator.url + "/api") as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


def test_url_plain_http_loopback(plain_http_emulator):
    assert plain_http_emulator.url.startswith("http://127.0.0.1:")

    with plain_http_emulator.client(ca_file=None) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "localhost", "[::1]"])
def test_url_http_loopback_created(closed_port, host):
    # Only creation is checked, so no request is sent.
    with opstatus.Client(
        api_url=f"http://{host}:{closed_port}/api",
        api_token="placeholder-token",
        use_environment=False,
    ) as client:
        assert client.closed is False


@pytest.mark.parametrize("url", NON_LOOPBACK_HTTP_URLS)
def test_url_http_non_loopback_rejected(url):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        opstatus.Client(
            api_url=url, api_token="placeholder-token", use_environment=False
        )

    assert caught.value.code == 2
    assert "api_url" in caught.value.message
    assert "http://" in caught.value.message


def test_url_tenant_name_created():
    # NOTE: the expansion to https://acme.console.ves.volterra.io is not
    # visible without sending a request there, so only creation is checked.
    with opstatus.Client(
        api_url="acme", api_token="placeholder-token", use_environment=False
    ) as client:
        assert client.api_url == "acme"
        assert "'acme'" in repr(client)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://127.0.0.1:1/api/v1", "/api/v1"),
        ("https://127.0.0.1:1/api?debug=1", "query"),
        ("https://127.0.0.1:1/api#top", "fragment"),
        ("ftp://127.0.0.1:1/api", "ftp"),
        ("https://127.0.0.1:70000/api", "port"),
        ("https://acme prod", "space"),
        ("", "empty"),
    ],
    ids=["path", "query", "fragment", "scheme", "port", "space", "empty"],
)
def test_url_invalid_form(url, shown):
    with pytest.raises(opstatus.ConfigurationError) as caught:
        opstatus.Client(
            api_url=url, api_token="placeholder-token", use_environment=False
        )

    assert "api_url" in caught.value.message
    assert shown in caught.value.message


# Settings from the environment


def _set_emulator_environment(monkeypatch: pytest.MonkeyPatch, emulator) -> None:
    monkeypatch.setenv("F5XC_API_URL", emulator.url)
    monkeypatch.setenv("F5XC_API_TOKEN", emulator.token)
    monkeypatch.setenv("F5XC_CACERT", emulator.ca_file)


def test_env_f5xc_variables_used(clean_environment, emulator):
    _set_emulator_environment(clean_environment, emulator)

    with opstatus.Client(max_attempts=1) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES
    assert client.api_url is None


def test_env_keywords_win(clean_environment, emulator, closed_port, tmp_path):
    clean_environment.setenv("F5XC_API_URL", f"https://127.0.0.1:{closed_port}")
    clean_environment.setenv("F5XC_API_TOKEN", "token-from-the-environment")
    clean_environment.setenv("F5XC_CACERT", str(tmp_path / "no-such-ca.pem"))

    with opstatus.Client(
        api_url=emulator.url,
        api_token=emulator.token,
        ca_file=emulator.ca_file,
        max_attempts=1,
    ) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


def test_env_volt_url_used(clean_environment, emulator):
    clean_environment.setenv("VOLT_API_URL", emulator.url)
    clean_environment.setenv("F5XC_API_TOKEN", emulator.token)
    clean_environment.setenv("VOLT_API_CA_CERT", emulator.ca_file)

    with opstatus.Client(max_attempts=1) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


def test_env_empty_f5xc_url_unset(clean_environment, emulator):
    _set_emulator_environment(clean_environment, emulator)
    clean_environment.setenv("F5XC_API_URL", "")
    clean_environment.setenv("VOLT_API_URL", emulator.url)

    with opstatus.Client(max_attempts=1) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


def test_env_f5xc_url_beats_volt(clean_environment, emulator, closed_port):
    _set_emulator_environment(clean_environment, emulator)
    clean_environment.setenv("VOLT_API_URL", f"https://127.0.0.1:{closed_port}")

    with opstatus.Client(max_attempts=1) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


def test_env_volt_timeout_applies(clean_environment, emulator):
    _set_emulator_environment(clean_environment, emulator)
    clean_environment.setenv("VOLT_API_TIMEOUT", "1s")
    emulator.add_faults({"kind": "delay", "seconds": 3})

    with opstatus.Client(max_attempts=1) as client:
        started = time.monotonic()
        with pytest.raises(opstatus.TimeoutError) as caught:
            _get_seeded(client)
        seconds = time.monotonic() - started

    assert caught.value.code == 4
    assert seconds >= 0.9
    assert seconds < 2.0


def test_env_timeout_keyword_beats_volt(clean_environment, emulator):
    _set_emulator_environment(clean_environment, emulator)
    clean_environment.setenv("VOLT_API_TIMEOUT", "200ms")
    emulator.add_faults({"kind": "delay", "seconds": 0.5})

    with opstatus.Client(max_attempts=1, timeout_ms=3000) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


def test_env_volt_timeout_invalid(clean_environment, emulator):
    _set_emulator_environment(clean_environment, emulator)
    clean_environment.setenv("VOLT_API_TIMEOUT", "soon")

    with pytest.raises(opstatus.ConfigurationError) as caught:
        opstatus.Client()

    assert "VOLT_API_TIMEOUT" in caught.value.message


def test_env_ignored_when_disabled(clean_environment, emulator):
    _set_emulator_environment(clean_environment, emulator)

    with pytest.raises(opstatus.ConfigurationError) as caught:
        opstatus.Client(use_environment=False)

    assert "api_url" in caught.value.message


def test_env_token_ignored_when_disabled(clean_environment, emulator):
    _set_emulator_environment(clean_environment, emulator)

    with pytest.raises(opstatus.ConfigurationError) as caught:
        opstatus.Client(
            api_url=emulator.url, ca_file=emulator.ca_file, use_environment=False
        )

    assert "api_token" in caught.value.message


def test_env_volt_timeout_ignored_when_disabled(clean_environment, emulator):
    clean_environment.setenv("VOLT_API_TIMEOUT", "1ms")
    emulator.add_faults({"kind": "delay", "seconds": 0.2})

    with emulator.client() as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


def test_env_error_names_variable(clean_environment):
    clean_environment.setenv("F5XC_API_URL", NON_LOOPBACK_HTTP_URLS[0])
    clean_environment.setenv("F5XC_API_TOKEN", "placeholder-token")

    with pytest.raises(opstatus.ConfigurationError) as caught:
        opstatus.Client()

    assert "F5XC_API_URL" in caught.value.message


def test_env_p12_variables_used(clean_environment, mtls_emulator):
    clean_environment.setenv("F5XC_API_URL", mtls_emulator.url)
    clean_environment.setenv("F5XC_CACERT", mtls_emulator.ca_file)
    clean_environment.setenv("VOLT_API_P12_FILE", mtls_emulator.client_p12)
    clean_environment.setenv("VES_P12_PASSWORD", mtls_emulator.p12_password)

    with opstatus.Client(max_attempts=1) as client:
        status = _get_seeded(client)

    assert len(status.items) == SEEDED_SITES


def test_env_certificate_with_token_keyword(clean_environment, mtls_emulator):
    # Each setting resolves on its own, so a token keyword and a bundle from
    # the environment are both set, and the client needs "auth" to choose.
    clean_environment.setenv("F5XC_P12_FILE", mtls_emulator.client_p12)
    clean_environment.setenv("F5XC_P12_PASSWORD", mtls_emulator.p12_password)

    with pytest.raises(opstatus.ConfigurationError) as caught:
        opstatus.Client(api_url=mtls_emulator.url, api_token="placeholder-token")

    assert "F5XC_P12_FILE" in caught.value.message
    assert "api_token" in caught.value.message
