"""Proxy and cluster invariants (stackcheck/rules/database.py)."""

from __future__ import annotations

import pytest

from stackcheck.rules.database import check_database, check_proxy_tls
from tests.fragments import check, project, resource, setting


def proxy_stack(**proxy) -> dict:
    """A proxy and its target group as Pulumi.yaml declares them, with proxy properties overridden."""
    props = {
        "engineFamily": "POSTGRESQL",
        "requireTls": True,
        "auths": [{"authScheme": "SECRETS", "secretArn": "${secretArn}", "iamAuth": "${proxyIamAuth}"}],
        **proxy,
    }
    pool = {
        "connectionBorrowTimeout": "${borrowTimeout}",
        "maxConnectionsPercent": "${maxPercent}",
        "maxIdleConnectionsPercent": "${idlePercent}",
    }
    return project(
        {
            "proxy": resource("aws:rds:Proxy", **props),
            "pool": resource("aws:rds:ProxyDefaultTargetGroup", connectionPoolConfig=pool),
        },
        config={"proxyIamAuth": setting("string", "DISABLED"), "requireTls": setting("boolean", True)},
    )


def cluster_stack(cluster: dict | None = None, instance: dict | None = None) -> dict:
    """An encrypted, private Serverless v2 cluster and writer, with properties overridden."""
    props = {
        "storageEncrypted": True,
        "manageMasterUserPassword": True,
        "serverlessv2ScalingConfiguration": {"minCapacity": 0.5, "maxCapacity": 2},
        "backupRetentionPeriod": "${backupDays}",
        "deletionProtection": "${deletionProtection}",
        **(cluster or {}),
    }
    writer = {"instanceClass": "db.serverless", "publiclyAccessible": False, **(instance or {})}
    return project(
        {"db": resource("aws:rds:Cluster", **props), "writer": resource("aws:rds:ClusterInstance", **writer)},
        config={"public": setting("boolean", False)},
    )


def test_the_proxy_as_declared_passes(schema):
    assert check(schema, check_proxy_tls, proxy_stack()) == []
    assert check(schema, check_proxy_tls, proxy_stack(requireTls="${requireTls}")) == []


@pytest.mark.parametrize("require_tls", [False, "true", None])
def test_the_proxy_must_require_tls(schema, require_tls):
    doc = proxy_stack(requireTls=require_tls)
    if require_tls is None:
        del doc["resources"]["proxy"]["properties"]["requireTls"]
    assert check(schema, check_proxy_tls, doc) == [
        "[tls] resources.proxy.requireTls: RDS Proxy must have requireTls: true"
    ]


def test_tls_switched_off_in_any_stack_file_is_reported(schema):
    stacks = {"Pulumi.dev.yaml": {"config": {"libris:requireTls": False}}}
    assert check(schema, check_proxy_tls, proxy_stack(requireTls="${requireTls}"), stacks) == [
        "[tls] resources.proxy.requireTls: RDS Proxy must have requireTls: true"
    ]


def test_a_stack_without_a_proxy_is_reported(schema):
    assert check(schema, check_proxy_tls, project({})) == ["[tls] resources: no aws:rds:Proxy found"]


def test_the_proxy_authenticates_with_the_managed_secret(schema):
    auth = {"authScheme": "IAM", "secretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:x", "iamAuth": "OPTIONAL"}
    assert check(schema, check_proxy_tls, proxy_stack(engineFamily="MYSQL", auths=[auth])) == [
        "[contract] resources.proxy.engineFamily: must be POSTGRESQL",
        "[contract] resources.proxy.auths[0]: authScheme must be SECRETS",
        "[secret-env] resources.proxy.auths[0]: secretArn must reference the managed secret, not a literal",
        "[contract] resources.proxy.auths[0]: iamAuth value 'OPTIONAL' is not REQUIRED or DISABLED",
    ]


def test_the_pool_pins_nothing_and_takes_its_limits_from_config(schema):
    doc = proxy_stack()
    pool = doc["resources"]["pool"]["properties"]["connectionPoolConfig"]
    pool["initQuery"] = "SET x=1"
    pool["maxConnectionsPercent"] = 90
    assert check(schema, check_proxy_tls, doc) == [
        "[contract] resources.pool.connectionPoolConfig.initQuery: "
        "not used by design (see the comment above the target group)",
        "[contract] resources.pool.connectionPoolConfig: maxConnectionsPercent must come from config",
    ]


def test_the_cluster_as_declared_passes(schema):
    assert check(schema, check_database, cluster_stack()) == []
    assert check(schema, check_database, cluster_stack({"publiclyAccessible": "${public}"})) == []


def test_an_unencrypted_or_public_cluster_is_reported(schema):
    assert check(schema, check_database, cluster_stack({"storageEncrypted": False, "publiclyAccessible": True})) == [
        "[encryption] resources.db.storageEncrypted: Aurora storage must be encrypted (storageEncrypted: true)",
        "[public-db] resources.db.publiclyAccessible: the cluster must not be publicly accessible",
    ]


def test_the_master_password_is_managed_by_rds(schema):
    cluster = {"masterPassword": "hunter2hunter2", "manageMasterUserPassword": False}
    assert check(schema, check_database, cluster_stack(cluster)) == [
        "[plaintext-password] resources.db.masterPassword: use manageMasterUserPassword: "
        "the password must not pass through config/state",
        "[plaintext-password] resources.db: manageMasterUserPassword must be true (RDS-managed secret)",
    ]


def test_the_cluster_is_serverless_v2_with_configurable_retention(schema):
    cluster = {"serverlessv2ScalingConfiguration": None, "backupRetentionPeriod": 7}
    assert check(schema, check_database, cluster_stack(cluster)) == [
        "[contract] resources.db: serverlessv2ScalingConfiguration is required (Serverless v2)",
        "[contract] resources.db.backupRetentionPeriod: must be configurable (reference a config key)",
    ]


def test_instances_are_private_serverless_instances(schema):
    assert check(
        schema, check_database, cluster_stack(instance={"publiclyAccessible": True, "instanceClass": "db.r6g.large"})
    ) == [
        "[public-db] resources.writer.publiclyAccessible: DB instances must set publiclyAccessible: false",
        "[contract] resources.writer.instanceClass: Serverless v2 instances use db.serverless",
    ]


def test_a_stack_without_a_cluster_is_reported(schema):
    assert check(schema, check_database, project({})) == ["[encryption] resources: no aws:rds:Cluster found"]
