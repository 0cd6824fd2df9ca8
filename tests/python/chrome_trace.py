# SPDX-License-Identifier: BSD-3-Clause
"""Reading the Chrome/Perfetto traces probemon writes, for the tests.

`Trace(path)` parses the JSON (so an invalid document fails the test),
rebuilds each thread's spans into call trees and checks that they nest
strictly, as Perfetto requires: on one thread two spans are either disjoint
or one holds the other.
"""

import json


class Span:
    def __init__(self, event):
        self.name = event["name"]
        self.cat = event.get("cat", "")
        self.tid = event["tid"]
        self.ts = event["ts"]
        self.dur = event["dur"]
        self.args = event.get("args", {})
        self.parent = None
        self.children = []

    @property
    def end(self):
        return self.ts + self.dur

    @property
    def depth(self):
        return 0 if self.parent is None else self.parent.depth + 1

    def __repr__(self):
        return f"<{self.cat} {self.name!r} tid={self.tid} ts={self.ts} dur={self.dur}>"


class Trace:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.events = self.doc["traceEvents"]
        self.other = self.doc.get("otherData", {})
        self.spans = [Span(e) for e in self.events if e["ph"] == "X"]
        self.roots = []
        for tid in {s.tid for s in self.spans}:
            self._nest(sorted((s for s in self.spans if s.tid == tid),
                              key=lambda s: (s.ts, -s.dur)))

    def _nest(self, spans):
        open_spans = []
        for span in spans:
            # Microseconds with three decimals: equal ends are allowed.
            while open_spans and open_spans[-1].end <= span.ts:
                open_spans.pop()
            if open_spans:
                parent = open_spans[-1]
                assert span.end <= parent.end + 1e-6, f"{span} overlaps {parent}"
                span.parent = parent
                parent.children.append(span)
            else:
                self.roots.append(span)
            open_spans.append(span)

    def named(self, name, tid=None):
        return [s for s in self.spans if s.name == name and (tid is None or s.tid == tid)]

    def python_calls(self, tid=None):
        return [s for s in self.spans if s.cat == "python" and (tid is None or s.tid == tid)]

    def counter(self, name):
        """The (ts, value) samples of a counter track."""
        return [(e["ts"], e["args"]["value"]) for e in self.events
                if e["ph"] == "C" and e["name"] == name]

    @property
    def dropped(self):
        return self.other["dropped"]
