"""The stand-ins for what the stack creates in AWS, and each function's environment rendered with them.

What the stack creates, and what stands in for it here:
  * the Aurora cluster: a fresh database on the local PostgreSQL, owned by a migrator role of this run
    (LOGIN CREATEROLE, like Aurora's master user, not a superuser);
  * its master secret and the application user's secret: moto's Secrets Manager, the first holding the
    migrator's login, the second created empty, as the stack creates it;
  * RDS Proxy: a PgBouncer of this run (local/proxy.py) on 127.x.y.z:5432, TLS with a certificate for that
    address, logins read from the secrets the proxy's `auths` name;
  * the Cognito user pool and app client: moto's Cognito on the same server, with real access tokens.
Role, database and secret names carry a random tag, so concurrent runs never share one.

The environment is the stack's own (infra/stackcheck/render.py), plus only `LOCAL_ONLY`: where the AWS
endpoints are, test credentials, and the private CA the proxy's certificate chains to. The rehearsal
refuses to start if one of those is a setting the stack passes or the code requires, so a local setting
can never hide one the stack forgets.
"""

import json
import secrets
import sys
from pathlib import Path

import boto3

from libris_tools import db, paths, urls
from libris_tools.local.cognito import REGION, LocalCognito, moto_server
from libris_tools.local.proxy import TlsProxy
from libris_tools.local.tls import server_certificate
from libris_tools.log import Failure

sys.path.insert(0, str(paths.ROOT / "infra"))
from stackcheck.program import load_program  # noqa: E402
from stackcheck.render import Renderer, StandIns  # noqa: E402

# RDS Proxy for PostgreSQL listens on 5432; the stack passes that port to the functions as a literal.
PROXY_PORT = 5432
ACCOUNT = "123456789012"  # moto's account
LOCAL_ONLY = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "LIBRIS_AUTH_JWKS_URL",
              "DB_TLS_EXTRA_CA")


def required_settings(mode=None, login=None):
    """The settings infra/required-settings.json (generated from the Rust config) lists for `mode` and
    `login` (`password` or `iam`), or for any of them."""
    document = json.loads((paths.ROOT / "infra" / "required-settings.json").read_text())
    return {name for mode_name, entry in document["modes"].items() if mode in (None, mode_name)
            for login_name, names in entry["required"].items() if login in (None, login_name) for name in names}


def login_of(env):
    """How a function with `env` logs in to the database, as the Rust config decides it."""
    return "iam" if env.get("DB_IAM_AUTH") == "true" else "password"


class StandInAws:
    def __init__(self, workdir):
        tag = secrets.token_hex(4)
        self.workdir = Path(workdir)
        self.database = f"libris_rehearsal_{tag}"
        self.migrator, self.app = f"{self.database}_migrator", f"{self.database}_app"
        self.proxy_host = "127." + ".".join(str(secrets.randbelow(254) + 1) for _ in range(3))
        self.server = urls.admin_url()
        self.cognito = self.proxy = self.renderer = None
        self.created = []  # what stop() removes, newest first

    # ---- set-up ----------------------------------------------------------------

    def start(self):
        self.cognito = LocalCognito(moto_server())
        self.secrets = boto3.client("secretsmanager", region_name=REGION, endpoint_url=self.cognito.endpoint,
                                    aws_access_key_id="testing", aws_secret_access_key="testing")
        master_password = secrets.token_hex(16)
        db.psql(self.server, f"CREATE ROLE {self.migrator} LOGIN CREATEROLE PASSWORD '{master_password}'")
        # The application role is the migrate mode's to create; it goes after the database its grants are
        # in, before the migrator that created it.
        self.created += [f"DROP ROLE IF EXISTS {self.migrator}", f"DROP ROLE IF EXISTS {self.app}"]
        db.psql(self.server, f"CREATE DATABASE {self.database} OWNER {self.migrator}")
        self.created.append(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        login = json.dumps({"username": self.migrator, "password": master_password})
        master_arn = self.secrets.create_secret(Name=f"rds!cluster-{self.database}", SecretString=login)["ARN"]
        self.app_secret_arn = self.secrets.create_secret(Name=f"{self.database}-db-app")["ARN"]
        self.renderer = Renderer(load_program(paths.ROOT / "infra").doc, StandIns(
            stack="rehearsal",
            config={"awsRegion": REGION, "dbName": self.database, "dbMasterUsername": self.migrator,
                    "dbAppUsername": self.app},
            outputs={
                "dbProxy.endpoint": self.proxy_host,
                "dbCluster.masterUserSecrets[0].secretArn": master_arn,
                "appDbSecret.arn": self.app_secret_arn,
                "userPool.id": self.cognito.pool,
                "appClient.id": self.cognito.client_id,
            },
            invokes={"aws:index:getRegion": {"region": REGION}, "aws:index:getPartition": {"partition": "aws"},
                     "aws:index:getCallerIdentity": {"accountId": ACCOUNT}},
        ))
        # The proxy's own directory (its files, certificate and key) goes to the user PgBouncer runs as,
        # who may pass through the work directory but not read it.
        proxy_dir = self.workdir / "proxy"
        proxy_dir.mkdir()
        self.workdir.chmod(0o711)
        self.ca, cert, key = server_certificate(proxy_dir, self.proxy_host)
        require_tls = self.renderer.property("dbProxy", "requireTls") is True
        self.proxy = TlsProxy(proxy_dir, self.proxy_host, PROXY_PORT, cert, key, require_tls)
        self.proxy.start(self.proxy_logins())
        return self

    def stop(self):
        for stopper in (self.proxy, self.cognito):
            if stopper is not None:
                stopper.stop()
        for statement in reversed(self.created):
            db.psql(self.server, statement, check=False)

    # ---- what the functions and the proxy get ------------------------------------

    def proxy_logins(self):
        """The logins RDS Proxy would accept: one per secret its `auths` name that has a value yet."""
        logins = {}
        for auth in self.renderer.property("dbProxy", "auths") or []:
            try:
                value = self.secrets.get_secret_value(SecretId=auth["secretArn"])["SecretString"]
            except self.secrets.exceptions.ResourceNotFoundException:
                continue  # created empty; RDS Proxy reports such a target as unavailable
            login = json.loads(value)
            logins[login["username"]] = login["password"]
        return logins

    def app_secret(self):
        """The application user's secret as the migrate mode left it (None while empty)."""
        try:
            return json.loads(self.secrets.get_secret_value(SecretId=self.app_secret_arn)["SecretString"])
        except self.secrets.exceptions.ResourceNotFoundException:
            return None

    def local_settings(self):
        return {
            "AWS_ENDPOINT_URL": self.cognito.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            # In AWS the function derives it from the issuer, https://cognito-idp.<region>.amazonaws.com/…
            "LIBRIS_AUTH_JWKS_URL": f"{self.cognito.endpoint}/{self.cognito.pool}/.well-known/jwks.json",
            # In AWS the proxy's certificate chains to a public root the function already trusts.
            "DB_TLS_EXTRA_CA": str(self.ca),
        }

    def functions(self):
        """{mode: function resource} for the program's functions (mode `api` unless LIBRIS_LAMBDA_MODE says)."""
        modes = {}
        for name in self.renderer.functions():
            mode = self.renderer.environment(name).get("LIBRIS_LAMBDA_MODE") or "api"
            if mode in modes:
                raise Failure(f"two functions in mode {mode}: {modes[mode]} and {name}")
            modes[mode] = name
        if set(modes) != {"api", "migrate"}:
            raise Failure(f"the rehearsal runs one API and one migration function; the stack has {modes}")
        return modes

    def environment(self, function):
        """What the stack gives `function`, plus the local settings (never in place of one of its own)."""
        rendered = self.renderer.environment(function)
        local = self.local_settings()
        clash = set(local) & (set(rendered) | required_settings())
        if clash:
            raise Failure(f"the rehearsal's local settings {sorted(clash)} would stand in for the stack's own")
        return {**rendered, **local}

    def deploy_payload(self):
        """The event `pulumi up` invokes the migration function with (the stack's aws:lambda:Invocation)."""
        for name, resource in self.renderer.resources.items():
            if isinstance(resource, dict) and resource.get("type") == "aws:lambda:Invocation":
                return json.loads(self.renderer.property(name, "input"))
        raise Failure("the stack has no aws:lambda:Invocation that runs the migrations on deploy")
