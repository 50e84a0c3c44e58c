"""No credential reaches a repr, an error, a traceback or a mongocat log line.

Each case puts the secret somewhere a connection string or client option carries one;
then the Catalogue is shown, used against a port where nothing listens, and closed.
"""

import logging
import traceback
from typing import Any

import pytest

from mongocat import Catalogue, DriverName, MongocatError
from mongocat._driver import redact_uri, uri_secrets

SECRET = "s3cret-Zq9"


HOST = "127.0.0.1:{port}"  # a port where nothing listens, filled in by each test
FAST = {"serverSelectionTimeoutMS": 300, "connectTimeoutMS": 300}

CASES: list[Any] = [
    pytest.param(f"mongodb://ann:{SECRET}@{HOST}/shop", {}, id="userinfo-password"),
    pytest.param(
        f"mongodb://ann:{SECRET.replace('-', '%2D')}@{HOST}/shop", {}, id="encoded-password"
    ),
    pytest.param(
        f"mongodb://{HOST}/shop?authMechanism=MONGODB-AWS"
        f"&authMechanismProperties=AWS_SESSION_TOKEN:{SECRET}",
        {},
        id="uri-aws-session-token",
    ),
    pytest.param(
        f"mongodb://{HOST}/shop?proxyHost=127.0.0.1&proxyUsername=p&proxyPassword={SECRET}",
        {},
        id="uri-proxy-password",  # PyMongo ignores it, with a warning; still never shown
        marks=pytest.mark.filterwarnings("ignore:Unknown option:UserWarning"),
    ),
    pytest.param(
        f"mongodb://{HOST}/shop?tls=true&tlsCertificateKeyFile=/no/such/key.pem"
        f"&tlsCertificateKeyFilePassword={SECRET}",
        {},
        id="uri-tls-key-password",
    ),
    pytest.param(
        f"mongodb://{HOST}/shop", {"username": "ann", "password": SECRET}, id="option-password"
    ),
    pytest.param(
        f"mongodb://{HOST}/shop",
        {
            "authMechanism": "MONGODB-AWS",
            "authMechanismProperties": {"AWS_SESSION_TOKEN": SECRET},
        },
        id="option-aws-session-token",
    ),
    pytest.param(
        f"mongodb://{HOST}/shop",
        {"proxyHost": "127.0.0.1", "proxyUsername": "p", "proxyPassword": SECRET},
        id="option-proxy-password",
    ),
]


def shown(error: BaseException) -> str:
    """Everything an error shows: str, repr, its details and the whole traceback."""
    details = getattr(error, "details", None)
    return "\n".join(
        [str(error), repr(error), repr(details), "".join(traceback.format_exception(error))]
    )


@pytest.mark.parametrize(("uri", "options"), CASES)
async def test_no_secret_is_shown_anywhere(
    uri: str,
    options: dict[str, Any],
    mongocat_driver: DriverName,
    caplog: pytest.LogCaptureFixture,
    unused_port: int,
) -> None:
    caplog.set_level(logging.DEBUG, logger="mongocat")
    uri = uri.replace("{port}", str(unused_port))
    texts: list[str] = []
    try:
        cat = Catalogue.connect(uri, driver=mongocat_driver, **FAST, **options)
    except MongocatError as exc:  # an invalid option: the error must not show it either
        texts.append(shown(exc))
    else:
        texts.append(repr(cat))
        with pytest.raises(MongocatError) as caught:
            await cat.collection("items").find_one({})
        texts.append(shown(caught.value))
        await cat.close()
        texts.append(repr(cat))
    texts.extend(record.getMessage() for record in caplog.records)
    assert texts
    for text in texts:
        assert SECRET not in text
        assert SECRET.replace("-", "%2D") not in text


def test_the_secrets_of_a_uri_and_of_client_options() -> None:
    uri = (
        "mongodb://ann:p%40ss@h/?authMechanismProperties=AWS_SESSION_TOKEN:tok,SERVICE_NAME:svc"
        "&tlsCertificateKeyFilePassword=kfp;proxyPassword=pp"
    )
    options = {
        "password": "opw",
        "auto_encryption_opts": {"kms_providers": {"aws": {"secretAccessKey": "kms"}}},
        "kms_providers": {"local": {"key": b"\x00\x01key"}},
    }
    found = set(uri_secrets(uri, options))
    assert {"p%40ss", "p@ss", "tok", "svc", "kfp", "pp", "opw", "kms"} <= found
    shown_uri = redact_uri(uri)
    for secret in ("p%40ss", "tok", "kfp", "pp"):
        assert secret not in shown_uri
    assert shown_uri.startswith("mongodb://ann:***@h/?authMechanismProperties=***")
