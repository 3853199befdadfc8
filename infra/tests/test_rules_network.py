"""Network invariants (stackcheck/rules/network.py)."""

from __future__ import annotations

import pytest

from stackcheck.rules.network import check_database_path, check_distinct_zones, check_ingress, check_network_chain
from tests.fragments import check, project, resource, setting


def rule(kind: str = "Ingress", **props) -> dict:
    """A group-to-group rule on 5432, with properties overridden."""
    base = {
        "securityGroupId": "${dbSg.id}",
        "referencedSecurityGroupId": "${proxySg.id}",
        "ipProtocol": "tcp",
        "fromPort": 5432,
        "toPort": 5432,
    }
    return resource(f"aws:vpc:SecurityGroup{kind}Rule", **{**base, **props})


def network(**resources) -> dict:
    return project(
        {"dbSg": resource("aws:ec2:SecurityGroup", vpcId="${vpc.id}"), **resources},
        config={"adminCidr": setting("string", "10.0.0.0/8")},
    )


def test_group_to_group_rules_on_one_port_pass(schema):
    doc = network(dbIngress=rule(), endpointEgress=rule("Egress", fromPort=443, toPort=443))
    assert check(schema, check_ingress, doc) == []
    assert check(schema, check_network_chain, doc) == []


@pytest.mark.parametrize(
    ("props", "where"),
    [
        ({"cidrIpv4": "0.0.0.0/0"}, "cidrIpv4"),
        ({"cidrIpv6": "::/0"}, "cidrIpv6"),
        ({"cidrIpv4": "${adminCidr}"}, "cidrIpv4"),  # with the stack file below
    ],
)
def test_ingress_from_the_world_is_reported(schema, props, where):
    stacks = {"Pulumi.dev.yaml": {"config": {"libris:adminCidr": "0.0.0.0/0"}}}
    assert check(schema, check_ingress, network(open=rule(**props)), stacks) == [
        f"[world-ingress] resources.open.{where}: ingress from 0.0.0.0/0 or ::/0 is not allowed"
    ]


def test_a_private_range_is_not_the_world(schema):
    assert check(schema, check_ingress, network(admin=rule(cidrIpv4="${adminCidr}"))) == []


def test_inline_world_ingress_is_reported_and_inline_rules_are_not_allowed(schema):
    sg = resource("aws:ec2:SecurityGroup", ingress=[{"protocol": "tcp", "cidrBlocks": ["10.0.0.0/8", "0.0.0.0/0"]}])
    doc = network(lambdaSg=sg)
    assert check(schema, check_ingress, doc) == [
        "[world-ingress] resources.lambdaSg.ingress[0].cidrBlocks: ingress from 0.0.0.0/0 or ::/0 is not allowed"
    ]
    assert check(schema, check_network_chain, doc) == [
        "[network] resources.lambdaSg.ingress: use aws:vpc:SecurityGroup*Rule resources, not inline rules"
    ]


def test_legacy_rule_resources_are_checked_for_ingress_only(schema):
    def legacy(kind):
        return resource("aws:ec2:SecurityGroupRule", type=kind, cidrBlocks=["0.0.0.0/0"], securityGroupId="sg-1")

    assert check(schema, check_ingress, network(r=legacy("ingress"))) == [
        "[world-ingress] resources.r.cidrBlocks: ingress from 0.0.0.0/0 or ::/0 is not allowed"
    ]
    assert check(schema, check_ingress, network(r=legacy("egress"))) == []


def test_rules_must_reference_a_group_not_a_cidr(schema):
    doc = network(r=rule(referencedSecurityGroupId=None, cidrIpv4="10.40.0.0/16"))
    assert check(schema, check_network_chain, doc) == [
        "[network] resources.r: rules must reference a security group (referencedSecurityGroupId), not a CIDR"
    ]


@pytest.mark.parametrize(
    "props", [{"toPort": 6000}, {"fromPort": 22, "toPort": 22}, {"ipProtocol": "-1"}, {"ipProtocol": "udp"}]
)
def test_rules_open_one_tcp_port_of_the_database_path(schema, props):
    assert check(schema, check_network_chain, network(r=rule(**props))) == [
        "[network] resources.r: rules must be tcp on a single port (5432 or 443)"
    ]


def group(name: str) -> dict:
    return resource("aws:ec2:SecurityGroup", vpcId="${vpc.id}", description=name)


def hop(own: str, peer: str, kind: str) -> dict:
    return rule(kind, securityGroupId=f"${{{own}.id}}", referencedSecurityGroupId=f"${{{peer}.id}}")


def database_path(**changes) -> dict:
    """function (fnSg) -> proxy (proxySg) -> cluster (dbSg), each hop on both sides; `changes` edit it."""
    resources = {
        "fnSg": group("functions"),
        "proxySg": group("proxy"),
        "dbSg": group("cluster"),
        "fn": resource("aws:lambda:Function", vpcConfig={"securityGroupIds": ["${fnSg.id}"], "subnetIds": ["s"]}),
        "proxy": resource("aws:rds:Proxy", vpcSecurityGroupIds=["${proxySg.id}"]),
        "cluster": resource("aws:rds:Cluster", vpcSecurityGroupIds=["${dbSg.id}"]),
        "fnToProxy": hop("fnSg", "proxySg", "Egress"),
        "proxyFromFn": hop("proxySg", "fnSg", "Ingress"),
        "proxyToDb": hop("proxySg", "dbSg", "Egress"),
        "dbFromProxy": hop("dbSg", "proxySg", "Ingress"),
        **changes,
    }
    return project({k: v for k, v in resources.items() if v is not None})


def test_a_complete_function_proxy_cluster_chain_passes(schema):
    assert check(schema, check_database_path, database_path()) == []


@pytest.mark.parametrize(
    ("missing", "group_name", "what"),
    [
        ("fnToProxy", "fnSg", "functions to proxy"),
        ("proxyFromFn", "fnSg", "functions to proxy"),
        ("proxyToDb", "proxySg", "proxy to cluster"),
        ("dbFromProxy", "proxySg", "proxy to cluster"),
    ],
)
def test_a_hop_allowed_on_one_side_only_is_reported(schema, missing, group_name, what):
    found = check(schema, check_database_path, database_path(**{missing: None}))
    assert found == [
        f"[network] resources.{group_name}: the {what} hop is incomplete: {group_name} needs egress to, and "
        f"ingress on, {'proxySg' if what.startswith('functions') else 'dbSg'} on 5432"
    ]


def test_anything_but_the_proxy_reaching_the_cluster_is_reported(schema):
    doc = database_path(dbFromFn=hop("dbSg", "fnSg", "Ingress"))
    assert check(schema, check_database_path, doc) == [
        "[network] resources.dbSg: fnSg reaches the cluster on 5432; only the proxy may"
    ]


def subnet(zone) -> dict:
    return resource(
        "aws:ec2:Subnet",
        vpcId="${vpc.id}",
        cidrBlock="10.0.0.0/24",
        **({} if zone is None else {"availabilityZone": zone}),
    )


def test_subnets_in_distinct_zones_pass(schema):
    doc = project({"a": subnet({"fn::select": [0, "${zones}"]}), "b": subnet({"fn::select": [1, "${zones}"]})})
    assert check(schema, check_distinct_zones, doc) == []


def test_subnets_in_one_zone_or_an_unnamed_zone_are_reported(schema):
    doc = project({"a": subnet("eu-west-1a"), "b": subnet("eu-west-1a"), "c": subnet(None)})
    assert check(schema, check_distinct_zones, doc) == [
        "[network] resources.b.availabilityZone: same zone as a; use another one",
        "[network] resources.c.availabilityZone: name the zone: AWS may put both in one",
    ]
