"""Security invariants of the network: nothing open to the world, rules only between security groups.

No ingress from 0.0.0.0/0 or ::/0, whether written inline, as a rule
resource or through a config value; security groups carry no inline rules;
every rule resource references another group and opens one TCP port (5432
to the database path, 443 to the endpoints). The chain function -> proxy ->
cluster is complete in both directions (egress of one group and ingress of
the next), nothing but the proxy's groups reaches the cluster's, and the
subnets are in distinct availability zones."""

from __future__ import annotations

import json
import typing

from ..context import Context
from ..expressions import whole_reference
from ..mutation import Mutation, props

WORLD = {"0.0.0.0/0", "::/0"}


def check_ingress(ctx: Context) -> None:
    def check_cidrs(value: typing.Any, where: str) -> None:
        values = []
        for v in ctx.possible_values(value):
            values.extend(v if isinstance(v, list) else [v])
        if isinstance(value, list):
            for item in value:
                for v in ctx.possible_values(item):
                    values.extend(v if isinstance(v, list) else [v])
        if any(v in WORLD for v in values):
            ctx.err("world-ingress", where, "ingress from 0.0.0.0/0 or ::/0 is not allowed")

    for name, _ in ctx.of_type("aws:ec2:SecurityGroup", "aws:ec2:DefaultSecurityGroup"):
        for i, rule in enumerate(ctx.props(name).get("ingress") or []):
            if isinstance(rule, dict):
                for key in ("cidrBlocks", "ipv6CidrBlocks"):
                    if key in rule:
                        check_cidrs(rule[key], f"resources.{name}.ingress[{i}].{key}")
    for name, _ in ctx.of_type("aws:vpc:SecurityGroupIngressRule"):
        rule = ctx.props(name)
        for key in ("cidrIpv4", "cidrIpv6"):
            if key in rule:
                check_cidrs(rule[key], f"resources.{name}.{key}")
    for name, _ in ctx.of_type("aws:ec2:SecurityGroupRule"):
        rule = ctx.props(name)
        if rule.get("type") == "ingress":
            for key in ("cidrBlocks", "ipv6CidrBlocks"):
                if key in rule:
                    check_cidrs(rule[key], f"resources.{name}.{key}")


def check_network_chain(ctx: Context) -> None:
    """Rules only between security groups, on single TCP ports, no inline rules."""
    for name, _ in ctx.of_type("aws:ec2:SecurityGroup"):
        for key in ("ingress", "egress"):
            if key in ctx.props(name):
                ctx.err(
                    "network", f"resources.{name}.{key}", "use aws:vpc:SecurityGroup*Rule resources, not inline rules"
                )
    for name, _ in ctx.of_type("aws:vpc:SecurityGroupIngressRule", "aws:vpc:SecurityGroupEgressRule"):
        rule = ctx.props(name)
        where = f"resources.{name}"
        if whole_reference(rule.get("referencedSecurityGroupId")) is None:
            ctx.err("network", where, "rules must reference a security group (referencedSecurityGroupId), not a CIDR")
        if (
            rule.get("ipProtocol") != "tcp"
            or rule.get("fromPort") != rule.get("toPort")
            or rule.get("fromPort") not in (443, 5432)
        ):
            ctx.err("network", where, "rules must be tcp on a single port (5432 or 443)")


def group_ids(ctx: Context, values: typing.Any) -> set[str]:
    """The security group resources a list of `${group.id}` names."""
    out = set()
    for value in values if isinstance(values, list) else []:
        target = ctx.referenced_resource(value, "aws:ec2:SecurityGroup")
        if target is not None:
            out.add(target[0])
    return out


def group_rules(ctx: Context) -> tuple[set, set]:
    """(egress, ingress) as (group, peer group, port) triples of the rule resources."""
    found: dict[str, set] = {"aws:vpc:SecurityGroupEgressRule": set(), "aws:vpc:SecurityGroupIngressRule": set()}
    for kind, rules in found.items():
        for name, _ in ctx.of_type(kind):
            rule = ctx.props(name)
            own = ctx.referenced_resource(rule.get("securityGroupId"), "aws:ec2:SecurityGroup")
            peer = ctx.referenced_resource(rule.get("referencedSecurityGroupId"), "aws:ec2:SecurityGroup")
            if own and peer:
                rules.add((own[0], peer[0], rule.get("fromPort")))
    return found["aws:vpc:SecurityGroupEgressRule"], found["aws:vpc:SecurityGroupIngressRule"]


def check_database_path(ctx: Context) -> None:
    """function -> proxy -> cluster on 5432, each hop allowed on both sides; only the proxy reaches the cluster."""
    functions = set().union(
        *(
            group_ids(ctx, (ctx.props(n).get("vpcConfig") or {}).get("securityGroupIds"))
            for n, _ in ctx.of_type("aws:lambda:Function")
        )
    )
    proxies = set().union(
        *(group_ids(ctx, ctx.props(n).get("vpcSecurityGroupIds")) for n, _ in ctx.of_type("aws:rds:Proxy"))
    )
    clusters = set().union(
        *(group_ids(ctx, ctx.props(n).get("vpcSecurityGroupIds")) for n, _ in ctx.of_type("aws:rds:Cluster"))
    )
    egress, ingress = group_rules(ctx)
    for hop_from, hop_to, what in ((functions, proxies, "functions to proxy"), (proxies, clusters, "proxy to cluster")):
        for a in sorted(hop_from):
            if not any((a, b, 5432) in egress and (b, a, 5432) in ingress for b in hop_to):
                ctx.err(
                    "network",
                    f"resources.{a}",
                    f"the {what} hop is incomplete: {a} needs egress to, and ingress on, "
                    f"{' or '.join(sorted(hop_to)) or 'the next group'} on 5432",
                )
    for group, peer, port in sorted(ingress, key=str):
        if group in clusters and peer not in proxies:
            ctx.err("network", f"resources.{group}", f"{peer} reaches the cluster on {port}; only the proxy may")


def check_distinct_zones(ctx: Context) -> None:
    """The subnets a function, the proxy or the database uses lie in different availability zones."""
    seen: dict[str, str] = {}
    for name, _ in ctx.of_type("aws:ec2:Subnet"):
        zone = ctx.props(name).get("availabilityZone")
        if zone is None:
            ctx.err("network", f"resources.{name}.availabilityZone", "name the zone: AWS may put both in one")
            continue
        key = json.dumps(zone, sort_keys=True)
        if key in seen:
            ctx.err("network", f"resources.{name}.availabilityZone", f"same zone as {seen[key]}; use another one")
        seen.setdefault(key, name)


RULES = (check_ingress, check_network_chain, check_database_path, check_distinct_zones)


def _ingress_rule(group: str, **rule: typing.Any) -> dict:
    return {"type": "aws:vpc:SecurityGroupIngressRule", "properties": {"securityGroupId": f"${{{group}.id}}", **rule}}


def _world_via_config(doc: dict, stacks: dict) -> None:
    doc["config"]["adminCidr"] = {"type": "string", "default": "0.0.0.0/0", "description": "admin range"}
    doc["resources"]["adminIngress"] = _ingress_rule(
        "proxySg", ipProtocol="tcp", fromPort=5432, toPort=5432, cidrIpv4="${adminCidr}"
    )


def _rule_by_cidr(doc: dict, stacks: dict) -> None:
    rule = props(doc, "dbFromProxyIngress")
    rule.pop("referencedSecurityGroupId")
    rule["cidrIpv4"] = "10.40.0.0/16"


MUTATIONS = (
    Mutation(
        "0.0.0.0/0 ingress rule",
        "world-ingress",
        lambda d, s: d["resources"].update(
            openToWorld=_ingress_rule("proxySg", ipProtocol="tcp", fromPort=5432, toPort=5432, cidrIpv4="0.0.0.0/0")
        ),
    ),
    Mutation(
        "::/0 ingress rule",
        "world-ingress",
        lambda d, s: d["resources"].update(openToWorld6=_ingress_rule("dbSg", ipProtocol="-1", cidrIpv6="::/0")),
    ),
    Mutation(
        "inline 0.0.0.0/0 ingress on a security group",
        "world-ingress",
        lambda d, s: props(d, "lambdaSg").update(
            ingress=[{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}]
        ),
    ),
    Mutation("0.0.0.0/0 ingress through a config default", "world-ingress", _world_via_config),
    Mutation("security group rule by CIDR instead of group", "network", _rule_by_cidr),
    Mutation(
        "the proxy cannot reach the cluster (egress removed)",
        "network",
        lambda d, s: d["resources"].pop("proxyToDbEgress"),
    ),
    Mutation(
        "the functions reach the cluster directly",
        "network",
        lambda d, s: d["resources"].update(
            lambdaToDbIngress=_ingress_rule(
                "dbSg", referencedSecurityGroupId="${lambdaSg.id}", ipProtocol="tcp", fromPort=5432, toPort=5432
            )
        ),
    ),
    Mutation(
        "both subnets in one zone",
        "network",
        lambda d, s: props(d, "privateSubnetB").update(availabilityZone={"fn::select": [0, "${availableZones}"]}),
    ),
    Mutation(
        "security group rule on a port range",
        "network",
        lambda d, s: props(d, "proxyFromLambdaIngress").update(toPort=6000),
    ),
)
