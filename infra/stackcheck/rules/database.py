"""Security invariants of the database path: the proxy and the Aurora cluster.

RDS Proxy requires TLS, authenticates with the managed secret and keeps its
pool settings in config; the cluster is encrypted, private, Serverless v2,
and its master password is generated and kept by RDS, never in config or
state."""

from __future__ import annotations

from ..context import Context
from ..expressions import whole_reference
from ..mutation import Mutation, props


def check_proxy_tls(ctx: Context) -> None:
    proxies = ctx.of_type("aws:rds:Proxy")
    if not proxies:
        ctx.err("tls", "resources", "no aws:rds:Proxy found")
    for name, _ in proxies:
        proxy = ctx.props(name)
        if not ctx.literal_is(proxy.get("requireTls"), True):
            ctx.err("tls", f"resources.{name}.requireTls", "RDS Proxy must have requireTls: true")
        if proxy.get("engineFamily") != "POSTGRESQL":
            ctx.err("contract", f"resources.{name}.engineFamily", "must be POSTGRESQL")
        for i, auth in enumerate(proxy.get("auths") or []):
            where = f"resources.{name}.auths[{i}]"
            if not isinstance(auth, dict):
                continue
            if auth.get("authScheme") != "SECRETS":
                ctx.err("contract", where, "authScheme must be SECRETS")
            if whole_reference(auth.get("secretArn")) is None:
                ctx.err("secret-env", where, "secretArn must reference the managed secret, not a literal")
            for v in ctx.possible_values(auth.get("iamAuth")):
                if v not in ("REQUIRED", "DISABLED"):
                    ctx.err("contract", where, f"iamAuth value {v!r} is not REQUIRED or DISABLED")
    for name, _ in ctx.of_type("aws:rds:ProxyDefaultTargetGroup"):
        pool = ctx.props(name).get("connectionPoolConfig") or {}
        for key in ("initQuery", "sessionPinningFilters"):
            if key in pool:
                ctx.err(
                    "contract",
                    f"resources.{name}.connectionPoolConfig.{key}",
                    "not used by design (see the comment above the target group)",
                )
        for key in ("connectionBorrowTimeout", "maxConnectionsPercent", "maxIdleConnectionsPercent"):
            if whole_reference(pool.get(key)) is None:
                ctx.err("contract", f"resources.{name}.connectionPoolConfig", f"{key} must come from config")


def check_database(ctx: Context) -> None:
    clusters = ctx.of_type("aws:rds:Cluster")
    if not clusters:
        ctx.err("encryption", "resources", "no aws:rds:Cluster found")
    for name, _ in clusters:
        cluster = ctx.props(name)
        where = f"resources.{name}"
        if not ctx.literal_is(cluster.get("storageEncrypted"), True):
            ctx.err(
                "encryption", f"{where}.storageEncrypted", "Aurora storage must be encrypted (storageEncrypted: true)"
            )
        if "publiclyAccessible" in cluster and not ctx.literal_is(cluster.get("publiclyAccessible"), False):
            ctx.err("public-db", f"{where}.publiclyAccessible", "the cluster must not be publicly accessible")
        for key in ("masterPassword", "masterPasswordWo"):
            if key in cluster:
                ctx.err(
                    "plaintext-password",
                    f"{where}.{key}",
                    "use manageMasterUserPassword: the password must not pass through config/state",
                )
        if not ctx.literal_is(cluster.get("manageMasterUserPassword"), True):
            ctx.err("plaintext-password", where, "manageMasterUserPassword must be true (RDS-managed secret)")
        if not isinstance(cluster.get("serverlessv2ScalingConfiguration"), dict):
            ctx.err("contract", where, "serverlessv2ScalingConfiguration is required (Serverless v2)")
        for key in ("backupRetentionPeriod", "deletionProtection"):
            if whole_reference(cluster.get(key)) is None:
                ctx.err("contract", f"{where}.{key}", "must be configurable (reference a config key)")
    for name, res in ctx.of_type("aws:rds:ClusterInstance", "aws:rds:Instance"):
        instance = ctx.props(name)
        where = f"resources.{name}"
        if not ctx.literal_is(instance.get("publiclyAccessible"), False):
            ctx.err("public-db", f"{where}.publiclyAccessible", "DB instances must set publiclyAccessible: false")
        if "ClusterInstance" in str(res.get("type")) and instance.get("instanceClass") != "db.serverless":
            ctx.err("contract", f"{where}.instanceClass", "Serverless v2 instances use db.serverless")


RULES = (check_proxy_tls, check_database)

MUTATIONS = (
    Mutation("proxy requireTls false", "tls", lambda d, s: props(d, "dbProxy").update(requireTls=False)),
    Mutation("proxy requireTls removed", "tls", lambda d, s: props(d, "dbProxy").pop("requireTls")),
    Mutation(
        "initQuery on the proxy pool",
        "contract",
        lambda d, s: props(d, "dbProxyTargetGroup")["connectionPoolConfig"].update(initQuery="SET x=1"),
    ),
    Mutation(
        "cluster storage not encrypted", "encryption", lambda d, s: props(d, "dbCluster").update(storageEncrypted=False)
    ),
    Mutation(
        "writer instance publicly accessible",
        "public-db",
        lambda d, s: props(d, "dbWriter").update(publiclyAccessible=True),
    ),
    Mutation(
        "cluster publicly accessible", "public-db", lambda d, s: props(d, "dbCluster").update(publiclyAccessible=True)
    ),
    Mutation(
        "plaintext master password",
        "plaintext-password",
        lambda d, s: props(d, "dbCluster").update(masterPassword="hunter2hunter2"),
    ),
)
