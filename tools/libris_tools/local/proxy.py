"""A PgBouncer of one check's own, standing in for RDS Proxy as the functions meet it: TLS on the client
side (RDS Proxy's `requireTls`), a password login for each user it has a login for (RDS Proxy's `auths`,
one Secrets Manager secret each), transactions pooled onto the local PostgreSQL.

Unlike the suite's shared PgBouncer (libris_tools.pgbouncer, trusting every listed user), this one checks
passwords (SCRAM), so a function that sends the wrong one, or logs in as a user the proxy has no login for,
is refused as it would be in AWS. Its logins change while it runs (`set_logins`, then a reload), as RDS
Proxy follows a secret that the migration function fills.

It listens where the stack says the proxy does: `host`:`port`, where `host` is a loopback address of the
check's own (127.x.y.z), so port 5432 is free on it while PostgreSQL holds 127.0.0.1:5432.
"""

import os
import shutil
import signal
import time
from pathlib import Path

from .. import pgbouncer, pgbouncer_build, procs
from ..log import Failure
from ..net import wait_for_port

SCRAM_AUTH = """;; Clients log in with the password of a login in auth_file, checked with SCRAM, as RDS Proxy checks
;; them against its secrets (clientPasswordAuthType POSTGRES_SCRAM_SHA_256).
auth_type = scram-sha-256"""


def tls_lines(cert, key, required):
    mode = "require" if required else "allow"
    return f"""
;; TLS from the clients (RDS Proxy's requireTls), with a certificate for the endpoint's address.
client_tls_sslmode = {mode}
client_tls_cert_file = {cert}
client_tls_key_file = {key}"""


def userlist(logins):
    """auth_file lines: each user with its password in plain text (PgBouncer derives the SCRAM secrets)."""
    quote = lambda text: '"' + text.replace('"', '""') + '"'  # noqa: E731 - PgBouncer's quoting
    return "".join(f"{quote(user)} {quote(password)}\n" for user, password in sorted(logins.items()))


class TlsProxy:
    def __init__(self, directory, host, port, cert, key, require_tls=True):
        self.directory, self.host, self.port = Path(directory), host, port
        self.files = {"ini": self.directory / "pgbouncer.ini", "users": self.directory / "userlist.txt",
                      "pid": self.directory / "pgbouncer.pid", "log": self.directory / "pgbouncer.log"}
        as_root = os.getuid() == 0
        self.config = pgbouncer.render_config(port, self.files, as_root, listen_addr=host, auth=SCRAM_AUTH,
                                              tls=tls_lines(cert, key, require_tls))
        self.service = procs.Service("PgBouncer (RDS Proxy stand-in)",
                                     [pgbouncer_build.binary(), self.files["ini"]], self.directory / "output.log")
        self.reloads = 0

    def start(self, logins):
        self.files["ini"].write_text(self.config)
        self.files["users"].write_text(userlist(logins))
        if os.getuid() == 0:  # PgBouncer drops to the run user, who must read its files and write its log
            for path in [self.directory, *self.directory.iterdir()]:
                shutil.chown(path, pgbouncer.run_user())
        self.service.start()
        try:
            wait_for_port(self.port, "PgBouncer", alive=self.service.alive, host=self.host)
        except Failure as failure:
            raise Failure(f"{failure}:\n{self.log()[-3000:]}{self.service.log_text()[-3000:]}") from None
        return self

    def set_logins(self, logins):
        """Replaces the logins and reloads them (SIGHUP), waiting until PgBouncer has read them."""
        self.files["users"].write_text(userlist(logins))
        self.service.process.send_signal(signal.SIGHUP)
        self.reloads += 1
        deadline = time.monotonic() + 10
        while self.log().count("got SIGHUP") < self.reloads:
            if time.monotonic() > deadline or not self.service.alive():
                raise Failure(f"PgBouncer did not reload its logins:\n{self.log()[-3000:]}")
            time.sleep(0.05)

    def log(self):
        try:
            return self.files["log"].read_text(errors="replace")
        except OSError:
            return ""

    def stop(self):
        self.service.stop()
