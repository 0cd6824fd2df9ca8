# SPDX-License-Identifier: BSD-3-Clause
"""Parses a Prometheus exposition with python3-prometheus-client, as a
second, independent reader of what probemon serve writes.

    /usr/bin/python3 parse_exposition.py text|openmetrics FILE

Prints {"families": [[name, type], ...], "samples": [[name, labels, value],
...]} as JSON (infinite values as the strings "+Inf"/"-Inf"); exits 1 with
the parser's error on stderr if it refuses the text.
"""
import json
import math
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text


def number(value):
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value


def main():
    parse = parse_openmetrics if sys.argv[1] == "openmetrics" else parse_text
    with open(sys.argv[2], encoding="utf-8") as exposition:
        text = exposition.read()
    try:
        families = list(parse(text))
    except Exception as error:  # the parsers raise ValueError and others
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({
        "families": [[family.name, family.type] for family in families],
        "samples": [[sample.name, sample.labels, number(sample.value)]
                    for family in families for sample in family.samples],
    }))


main()
