"""The storm's table (Markdown, for BENCHMARKS.md) and pictures (PNG, matplotlib: instances alive, server
connections and p99 latency over time). The table is pure; matplotlib is imported only to draw."""

from collections import Counter

from .stats import Outcome, Sample, per_second

# Which windows of each scenario the table shows.
WINDOWS = {"storm-direct": ("ramp", "steady", "quiet"), "storm-proxy": ("ramp", "steady", "quiet"),
           "pinned": ("ramp", "steady"), "overload-direct": ("stall", "all"), "overload-proxy": ("stall", "all"),
           "short": ("all",)}
VIA = {"direct": "direct", "transaction": "proxy (transaction)", "session": "proxy (session)"}


def counts(statuses):
    """(2xx, 4xx, 503, other failures) from a status -> count mapping (JSON keys are strings)."""
    statuses = Counter({int(k): v for k, v in statuses.items()})
    ok = sum(v for k, v in statuses.items() if 200 <= k < 300)
    client = sum(v for k, v in statuses.items() if 400 <= k < 500)
    unavailable = statuses.get(503, 0)
    other = sum(v for k, v in statuses.items() if k == 0 or (k >= 500 and k != 503))
    return ok, client, unavailable, other


def ms(value):
    return "-" if value is None else f"{value:,.0f}"


LABELS = ("requests", "req/s", "2xx", "4xx", "503", "500/none", "p50 ms", "p95 ms", "p99 ms", "instances (peak)",
          "cold starts", "clients (peak)", "waiting (peak)", "server conns (peak)", "server conns (end)")


def cells(w):
    """A window's figures, formatted, in the order of LABELS."""
    ok, client, unavailable, other = counts(w["statuses"])
    return (f"{w['requests']:,}", f"{w['per_second']:,.0f}", f"{ok:,}", f"{client:,}", f"{unavailable:,}",
            f"{other:,}", ms(w["p50"]), ms(w["p95"]), ms(w["p99"]), str(w["max_instances"]), str(w["cold_starts"]),
            str(w["max_clients"]), str(w["max_waiting"]), str(w["max_servers"]), str(w["last_servers"]))


def table(results):
    lines = ["| scenario | window | via | " + " | ".join(LABELS) + " |", "|---" * (len(LABELS) + 3) + "|"]
    for result in results:
        s = result["scenario"]
        for window in WINDOWS.get(s["name"], ("all",)):
            lines.append(f"| {s['title']} | {window} | {VIA[s['via']]} | " + " | ".join(cells(result["windows"][window]))
                         + " |")
    lines += ["", "| scenario | acknowledged check-outs | acknowledged returns | lost | server cap | crashes |",
              "|---|---|---|---|---|---|"]
    for result in results:
        c = result["checks"]
        lines.append(f"| {result['scenario']['title']} | {c['acknowledged_checkouts']:,} "
                     f"| {c['acknowledged_returns']:,} | {c['lost_checkouts'] + c['lost_returns']} | {c['cap']} "
                     f"| {c['crashes']} |")
    return "\n".join(lines)


def line(result):
    """One progress line for a finished scenario."""
    c = result["checks"]
    figures = ", ".join(f"{label} {value}" for label, value in zip(LABELS, cells(result["windows"]["all"])))
    return (f"{result['scenario']['name']}: {figures}; cap {c['cap']}; "
            f"lost writes {c['lost_checkouts'] + c['lost_returns']}")


def timeline(result):
    s = result["scenario"]
    outcomes = [Outcome(*o) for o in result["outcomes"]]
    samples = [Sample(**x) for x in result["samples"]]
    return per_second(outcomes, samples, s["ramp"] + s["steady"] + s["quiet"])


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = timeline(result)
    seconds = [r.second for r in data]
    gauge = lambda name: [getattr(r.sample, name) if r.sample else None for r in data]  # noqa: E731
    figure, (top, middle, bottom) = plt.subplots(3, 1, figsize=(9, 7.5), sharex=True)
    figure.suptitle(f"{result['scenario']['title']}: {result['scenario']['users']} users")
    top.plot(seconds, gauge("instances"), label="instances alive")
    top.plot(seconds, gauge("busy"), label="instances busy", alpha=0.7)
    top.set_ylabel("instances")
    top.legend(loc="upper right")
    middle.plot(seconds, gauge("servers"), label="server connections (pg_stat_activity)")
    if result["scenario"]["via"] != "direct":
        middle.plot(seconds, gauge("clients"), label="client connections at the proxy", alpha=0.7)
        middle.plot(seconds, gauge("waiting"), label="clients waiting at the proxy", alpha=0.7)
    middle.axhline(result["checks"]["cap"], color="red", linestyle="--", linewidth=1, label="cap")
    middle.set_ylabel("connections")
    middle.legend(loc="upper right", fontsize="small")
    bottom.plot(seconds, [r.p99 for r in data], label="p99 latency")
    bottom.plot(seconds, [r.p50 for r in data], label="p50 latency", alpha=0.7)
    twin = bottom.twinx()
    twin.bar(seconds, [r.failed for r in data], color="red", alpha=0.3, label="failed (503) per second")
    twin.set_ylabel("failed / s")
    bottom.set_ylabel("ms")
    bottom.set_yscale("log")
    bottom.set_xlabel("seconds since the storm began")
    bottom.legend(loc="upper left", fontsize="small")
    twin.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def write(results, folder):
    """The PNGs and results.md (the table and the machine's load during each scenario) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for result in results:
        plot(result, folder / f"{result['scenario']['name']}.png")
    load = "\n".join(f"- {r['scenario']['title']}: load average {r['load'][0]:.1f} before, {r['load'][1]:.1f} after, "
                     f"on {r['cpus']} CPUs" for r in results)
    (folder / "results.md").write_text(f"{table(results)}\n\nMachine load while measuring:\n\n{load}\n")
