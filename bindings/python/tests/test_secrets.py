"""Secrecy tests: the API token and passwords stay out of every text the client produces.

The token and passwords have recognisable prefixes, such as
"SECRET-TOKEN-", and random hex digits. Asserts check a boolean, never the
text itself, so a failing test does not print a secret. For the same reason
the scenario checks exception classes by name.
"""

from __future__ import annotations

import ctypes
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

import opstatus
from opstatus import _ffi

NAMESPACE = "demo"
LOAD_BALANCER = "shop-frontend"
SEEDED_OP_ID = 101
STATUS_PATH = (
    f"/api/cdn/namespaces/{NAMESPACE}/http_loadbalancer/get-service-operation-status"
)
FAST_RETRIES = {"retry_base_ms": 10, "retry_max_ms": 20}


def _get_seeded(client: opstatus.Client) -> opstatus.ServiceOperationStatus:
    return client.get_status(
        namespace=NAMESPACE, name=LOAD_BALANCER, service_op_id=SEEDED_OP_ID
    )


def _last_error_json() -> str:
    """Return opstatus_last_error_json() of the calling thread."""
    pointer = _ffi.lib.opstatus_last_error_json()
    assert pointer, "opstatus_last_error_json returned NULL"
    try:
        return ctypes.string_at(pointer).decode("utf-8", errors="replace")
    finally:
        _ffi.lib.opstatus_free(pointer)


@dataclass
class Transcript:
    """Every text that a scenario produced, grouped by where it appeared."""

    texts: dict[str, list[str]] = field(default_factory=dict, repr=False)
    # Class names of the failures, in order, to check the scenario ran.
    failures: list[str] = field(default_factory=list)

    def add(self, place: str, text: str) -> None:
        self.texts.setdefault(place, []).append(text)

    def expect_failure(self, call: Callable[[], Any]) -> str:
        """Run ``call``, record the failure it raises and return the class name.

        Returns "" when ``call`` succeeds. The last error JSON is read right
        after the failure, before any other library call on this thread.
        """
        try:
            call()
        except opstatus.OpStatusError as exc:
            self.add("last error JSON", _last_error_json())
            self.add("exception", str(exc))
            self.add("exception", repr(exc))
            self.add("exception", repr(exc.args))
            self.failures.append(type(exc).__name__)
            return type(exc).__name__
        return ""

    def leaks(self, secret: str) -> list[str]:
        """Return the places whose texts contain ``secret``."""
        return [
            place
            for place, texts in self.texts.items()
            if any(secret in text for text in texts)
        ]


def _run_token_scenario(emulator, transcript: Transcript, wrong_token: str) -> None:
    faults = emulator.add_faults
    client = emulator.client(max_attempts=3, deadline_ms=800, **FAST_RETRIES)
    with client:
        transcript.add("client repr", repr(client))
        _get_seeded(client)

        missing = transcript.expect_failure(
            lambda: client.get_status(
                namespace=NAMESPACE, name="no-such-lb", service_op_id=1
            )
        )
        assert missing == "NotFoundError"

        faults({"kind": "status", "status": 503, "count": 2})
        _get_seeded(client)

        faults({"kind": "status", "status": 503, "count": 3})
        assert transcript.expect_failure(lambda: _get_seeded(client)) == (
            "ServiceUnavailableError"
        )

        faults({"kind": "status", "status": 429, "headers": {"Retry-After": "0"}})
        _get_seeded(client)

        faults({"kind": "reset"})
        _get_seeded(client)

        faults({"kind": "hang", "seconds": 10})
        assert transcript.expect_failure(lambda: _get_seeded(client)) == "TimeoutError"

        for kind in ("invalid_json", "html", "wrong_types"):
            faults({"kind": kind})
            assert transcript.expect_failure(lambda: _get_seeded(client)) == (
                "ProtocolError"
            )
    transcript.add("client repr", repr(client))

    with emulator.client(api_token=wrong_token) as wrong_client:
        transcript.add("client repr", repr(wrong_client))
        assert transcript.expect_failure(lambda: _get_seeded(wrong_client)) == (
            "AuthenticationError"
        )


def _run_config_errors(emulator, transcript: Transcript, token: str) -> None:
    # The token travels in each setting in a form the client rejects. Tokens
    # with a lone surrogate have their own test, because only short ones leak.
    for wrong in (
        [token],
        {"value": token},
        token + " ",
        token + "\r\nX-Injected: 1",
        token + "\u00e9",
    ):
        name = transcript.expect_failure(lambda: emulator.client(api_token=wrong))
        assert name == "ConfigurationError"

    unknown_key = {
        "api_url": emulator.url,
        "api_tokn": token,
        "ca_file": emulator.ca_file,
        "use_environment": False,
    }
    name = transcript.expect_failure(lambda: opstatus.Client.from_config(unknown_key))
    assert name == "ConfigurationError"

    url_with_token = f"https://user:{token}@127.0.0.1:1/api"
    name = transcript.expect_failure(
        lambda: opstatus.Client(
            api_url=url_with_token, api_token="placeholder", use_environment=False
        )
    )
    assert name == "ConfigurationError"


def _run_certificate_scenario(
    emulator, transcript: Transcript, token: str, wrong_password: str
) -> None:
    common = {
        "api_url": emulator.url,
        "ca_file": emulator.ca_file,
        "use_environment": False,
        "max_attempts": 2,
        **FAST_RETRIES,
    }
    with opstatus.Client(
        p12_file=emulator.client_p12, p12_password=emulator.p12_password, **common
    ) as client:
        transcript.add("client repr", repr(client))
        _get_seeded(client)

    with opstatus.Client(
        api_token=token,
        p12_file=emulator.client_p12,
        p12_password=emulator.p12_password,
        auth="certificate",
        **common,
    ) as client:
        _get_seeded(client)

    with opstatus.Client(
        p12_file=emulator.client_p12, p12_password=wrong_password, **common
    ) as client:
        transcript.add("client repr", repr(client))
        name = transcript.expect_failure(lambda: _get_seeded(client))
    assert name == "ConfigurationError"

    for wrong in ([emulator.p12_password], {"value": emulator.p12_password}):
        name = transcript.expect_failure(
            lambda: opstatus.Client(
                p12_file=emulator.client_p12, p12_password=wrong, **common
            )
        )
        assert name == "ConfigurationError"

    name = transcript.expect_failure(
        lambda: opstatus.Client(
            api_token=token,
            p12_file=emulator.client_p12,
            p12_password=emulator.p12_password,
            **common,
        )
    )
    assert name == "ConfigurationError"


def test_secrets_absent_everywhere(secret_emulator, mtls_emulator, opstatus_log, capfd):
    token = secret_emulator.token
    wrong_token = "SECRET-TOKEN-" + secrets.token_hex(16)
    wrong_password = "P12-PASSWORD-WRONG-" + secrets.token_hex(12)
    transcript = Transcript()
    secret_emulator.reset()
    mtls_emulator.reset()

    _run_token_scenario(secret_emulator, transcript, wrong_token)
    _run_config_errors(secret_emulator, transcript, token)
    _run_certificate_scenario(mtls_emulator, transcript, token, wrong_password)

    for record in opstatus_log.records:
        transcript.add("log record", record.getMessage())
        transcript.add("log record", repr(record.args))
    captured = capfd.readouterr()
    transcript.add("stdout", captured.out)
    transcript.add("stderr", captured.err)
    transcript.add("emulator log", secret_emulator.log_text())
    transcript.add("emulator log", mtls_emulator.log_text())

    # The scenario must have produced the texts that the checks below read.
    assert len(transcript.failures) >= 18
    assert len(opstatus_log.messages(logging.DEBUG)) >= 10
    assert len(opstatus_log.messages(logging.WARNING)) >= 5
    for name, secret in [
        ("the token", token),
        ("the wrong token", wrong_token),
        ("the P12 password", mtls_emulator.p12_password),
        ("the wrong P12 password", wrong_password),
    ]:
        places = transcript.leaks(secret)
        assert places == [], f"{name} appears in: {', '.join(places)}"


def test_secrets_logging_levels(secret_emulator, opstatus_log):
    secret_emulator.reset()

    with secret_emulator.client(max_attempts=2, **FAST_RETRIES) as client:
        secret_emulator.add_faults({"kind": "status", "status": 503})
        _get_seeded(client)
        secret_emulator.add_faults({"kind": "status", "status": 503, "count": 2})
        with pytest.raises(opstatus.ServiceUnavailableError):
            _get_seeded(client)

    assert {record.name for record in opstatus_log.records} == {"opstatus"}
    debug = opstatus_log.messages(logging.DEBUG)
    request_line = re.compile(
        rf"POST {re.escape(STATUS_PATH)} -> HTTP (\d+) in \d+ ms \(attempt (\d+)\)"
    )
    requests = [request_line.search(message) for message in debug]
    seen = [(match[1], match[2]) for match in requests if match]
    assert seen == [("503", "1"), ("200", "2"), ("503", "1"), ("503", "2")]
    warnings = opstatus_log.messages(logging.WARNING)
    retries = [message for message in warnings if "retrying in" in message]
    give_ups = [message for message in warnings if "giving up" in message]
    assert len(retries) == 2
    assert "attempt 1 of 2" in retries[0]
    assert "503" in retries[0]
    assert len(give_ups) == 1
    assert "2 attempts" in give_ups[0]
    assert opstatus_log.messages(logging.ERROR) == []


def test_secrets_short_token_surrogate(secret_emulator):
    # A lone surrogate makes the config JSON invalid. jansson's error_set()
    # in src/load.c appends the text near a parse error when it is at most
    # 20 bytes long, which includes a whole short token.
    token = "tok" + secrets.token_hex(3)
    transcript = Transcript()

    name = transcript.expect_failure(
        lambda: secret_emulator.client(api_token=token + "\udc80")
    )

    assert name != ""
    places = transcript.leaks(token)
    assert places == [], f"the token appears in: {', '.join(places)}"


def test_secrets_short_password_surrogate(mtls_emulator):
    password = "pw" + secrets.token_hex(3)
    transcript = Transcript()

    name = transcript.expect_failure(
        lambda: opstatus.Client(
            api_url=mtls_emulator.url,
            p12_file=mtls_emulator.client_p12,
            p12_password=password + "\udc80",
            use_environment=False,
        )
    )

    assert name != ""
    places = transcript.leaks(password)
    assert places == [], f"the password appears in: {', '.join(places)}"


def test_secrets_echoed_token_hidden(secret_emulator, opstatus_log):
    # A proxy or debugging server may echo the request headers in an error
    # page. The client quotes the start of error bodies in its messages.
    secret_emulator.reset()
    echo = f"request had Authorization: APIToken {secret_emulator.token}"
    secret_emulator.add_faults(
        {"kind": "status", "status": 503, "body": echo},
        {"kind": "status", "status": 400, "body": echo},
    )
    transcript = Transcript()

    with secret_emulator.client(max_attempts=2, **FAST_RETRIES) as client:
        name = transcript.expect_failure(lambda: _get_seeded(client))
    for record in opstatus_log.records:
        transcript.add("log record", record.getMessage())

    assert name == "BadRequestError"
    places = transcript.leaks(secret_emulator.token)
    assert places == [], f"the token appears in: {', '.join(places)}"
