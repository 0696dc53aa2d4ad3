#!/usr/bin/python3
"""check-openmetrics.py OM_PAGE [TEXT_PAGE] -- checks a driftd /metrics page in OpenMetrics 1.0
with an independent parser, Debian's python3-prometheus-client
(prometheus_client.openmetrics.parser), plus the rules driftd promises on top of the format
(doc/metrics.md): strict UTF-8, HELP and TYPE exactly once per family (TYPE, UNIT, HELP in that
order), no family split or repeated, no unknown type, no NaN, no duplicate series, counters'
samples ending in _total, every name starting with driftd_.

Given TEXT_PAGE, the Prometheus text 0.0.4 page of the same snapshot, it is parsed with
prometheus_client.parser too and both pages must carry exactly the same samples (name, labels,
value).

Exit status: 0 valid, 1 invalid (the reasons on stderr), 2 usage, 77 prometheus_client missing
(automake's SKIP).
"""
import math
import sys

try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
    from prometheus_client.parser import text_string_to_metric_families as text_parse
except ImportError:
    print("SKIP: python3-prometheus-client is not installed", file=sys.stderr)
    sys.exit(77)

TYPES = {"counter", "gauge", "summary", "info"}


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    return raw.decode("utf-8")  # strict: invalid UTF-8 raises


def structure(text, problems):
    """Line-level rules the parser does not enforce. Returns {family: type}."""
    if not text.endswith("# EOF\n"):
        problems.append("the page does not end with '# EOF\\n'")
    meta = {}  # family -> list of metadata kinds in order
    types = {}
    order = []  # families in the order they start
    current = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line == "# EOF":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 4 or parts[1] not in ("TYPE", "UNIT", "HELP"):
                problems.append(f"line {n}: unexpected comment: {line!r}")
                continue
            kind, name = parts[1], parts[2]
            if name != current:
                if name in meta:
                    problems.append(f"line {n}: family {name} appears twice")
                current = name
                order.append(name)
                meta[name] = []
            meta[name].append(kind)
            if kind == "TYPE":
                types[name] = parts[3]
            continue
        if current is None:
            problems.append(f"line {n}: sample before any metadata")
    for name in order:
        kinds = meta[name]
        if kinds.count("TYPE") != 1 or kinds.count("HELP") != 1 or kinds.count("UNIT") > 1:
            problems.append(f"family {name}: metadata {kinds}, want one TYPE, one HELP")
        elif kinds[0] != "TYPE" or kinds[-1] != "HELP":
            problems.append(f"family {name}: metadata order {kinds}, want TYPE [UNIT] HELP")
        if types.get(name) not in TYPES:
            problems.append(f"family {name}: type {types.get(name)!r}")
        if not name.startswith("driftd_"):
            problems.append(f"family {name}: not a driftd_ name")
        if types.get(name) == "counter" and name.endswith("_total"):
            problems.append(f"family {name}: a counter family name must not end in _total")
    return types


def samples_of(families, problems, what):
    out = {}
    for fam in families:
        for s in fam.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in out:
                problems.append(f"{what}: duplicate series {key}")
            v = float(s.value)
            if math.isnan(v):
                problems.append(f"{what}: NaN sample {key}")
            out[key] = v
    return out


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    problems = []
    try:
        om = read(argv[1])
    except (OSError, UnicodeDecodeError) as e:
        print(f"{argv[1]}: {e}", file=sys.stderr)
        return 1
    types = structure(om, problems)
    try:
        fams = list(om_parse(om))
    except Exception as e:  # the parser raises ValueError and friends
        print(f"{argv[1]}: OpenMetrics parser: {e}", file=sys.stderr)
        return 1
    for fam in fams:
        if fam.type != types.get(fam.name):
            problems.append(f"family {fam.name}: parsed as {fam.type}")
        if fam.type == "counter":
            for s in fam.samples:
                if s.name != fam.name + "_total":
                    problems.append(f"counter sample {s.name} of {fam.name}")
    om_samples = samples_of(fams, problems, "OpenMetrics")
    if len(argv) == 3:
        try:
            text = read(argv[2])
            text_samples = samples_of(list(text_parse(text)), problems, "text 0.0.4")
        except Exception as e:
            print(f"{argv[2]}: text 0.0.4 parser: {e}", file=sys.stderr)
            return 1
        for key in sorted(set(om_samples) ^ set(text_samples)):
            where = "OpenMetrics" if key in om_samples else "text 0.0.4"
            problems.append(f"only in the {where} page: {key}")
        for key in sorted(set(om_samples) & set(text_samples)):
            if om_samples[key] != text_samples[key]:
                problems.append(f"{key}: {om_samples[key]} vs {text_samples[key]}")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"ok: {len(fams)} families, {len(om_samples)} samples")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
