"""The rehearsal's parts that need no database: the certificate a verifying client accepts, the proxy's
configuration and logins, and what it takes from infra/required-settings.json."""

import socket
import ssl
import threading

import pytest

from libris_tools.checks import rehearsal_aws
from libris_tools.local import proxy, tls


def handshake(ca, cert, key, host, server_name):
    """A TLS handshake on `host` with a client that verifies against `ca` and expects `server_name`."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(ca))
    with socket.socket() as listener:
        listener.bind((host, 0))
        listener.listen()

        def serve():
            connection, _ = listener.accept()
            try:
                with server_context.wrap_socket(connection, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

        thread = threading.Thread(target=serve)
        thread.start()
        try:
            with socket.create_connection(listener.getsockname()) as raw:
                with client_context.wrap_socket(raw, server_hostname=server_name) as wrapped:
                    return wrapped.version()
        finally:
            thread.join(timeout=5)


def test_the_proxy_certificate_verifies_for_its_address_only(tmp_path):
    ca, cert, key = tls.server_certificate(tmp_path, "127.0.0.1")
    assert handshake(ca, cert, key, "127.0.0.1", "127.0.0.1").startswith("TLS")
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        handshake(ca, cert, key, "127.0.0.1", "127.0.0.2")
    (tmp_path / "other").mkdir()
    other_ca, _, _ = tls.server_certificate(tmp_path / "other", "127.0.0.1")
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        handshake(other_ca, cert, key, "127.0.0.1", "127.0.0.1")
    assert oct(key.stat().st_mode & 0o777) == "0o600"


def test_the_stand_in_proxy_checks_passwords_over_tls(tmp_path):
    config = proxy.TlsProxy(tmp_path, "127.9.8.7", 5432, "/c.pem", "/k.pem").config
    assert "listen_addr = 127.9.8.7\nlisten_port = 5432\n" in config
    assert "\nauth_type = scram-sha-256\n" in config
    assert "\nclient_tls_sslmode = require\nclient_tls_cert_file = /c.pem\nclient_tls_key_file = /k.pem\n" in config
    assert "pool_mode = transaction" in config
    relaxed = proxy.TlsProxy(tmp_path, "127.9.8.7", 5432, "/c.pem", "/k.pem", require_tls=False).config
    assert "\nclient_tls_sslmode = allow\n" in relaxed


def test_logins_are_written_as_pgbouncer_reads_them():
    assert proxy.userlist({"b": 'pa"ss', "a": "x"}) == '"a" "x"\n"b" "pa""ss"\n'


def test_the_required_settings_are_read_per_mode_and_login():
    assert "LIBRIS_AUTH_ISSUER" in rehearsal_aws.required_settings("api", "password")
    assert "LIBRIS_AUTH_ISSUER" not in rehearsal_aws.required_settings("migrate", "password")
    assert "DB_USER" in rehearsal_aws.required_settings("migrate", "iam")
    assert "DB_USER" not in rehearsal_aws.required_settings("migrate", "password")
    assert rehearsal_aws.login_of({"DB_IAM_AUTH": "true"}) == "iam"
    assert rehearsal_aws.login_of({"DB_IAM_AUTH": "false"}) == rehearsal_aws.login_of({}) == "password"


def test_no_local_setting_is_one_the_code_requires():
    assert not set(rehearsal_aws.LOCAL_ONLY) & rehearsal_aws.required_settings()
