"""axe-core, Deque's accessibility engine, run inside the page in either browser lane.

axe-core is not committed: its minified build is over half a megabyte. It is installed from
npm, pinned, into .cache/axe-core the first time a test asks for it (npm checks the tarball
against the registry's integrity hash), and injected before the page loads, as the speech
fakes are: init scripts are not subject to the app's Content-Security-Policy.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest

from tests.live import ROOT

AXE_VERSION = "4.14.1"
CACHE = ROOT / ".cache" / "axe-core"
ARTIFACTS = ROOT / "test-artifacts" / "axe"
PACKAGE = CACHE / "node_modules" / "axe-core"

# WCAG 2.2 A and AA, and Deque's best practices (landmarks, one main, headings...).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
IMPACTS = ("critical", "serious", "moderate", "minor")


@functools.cache
def axe_source() -> str:
    """axe.min.js at AXE_VERSION, installed from npm when it is not in the cache yet."""
    installed = PACKAGE / "package.json"
    if not (installed.exists() and json.loads(installed.read_text())["version"] == AXE_VERSION):
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: the accessibility audit needs axe-core from npm")
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund",
             "--ignore-scripts", "--loglevel=error", f"axe-core@{AXE_VERSION}"],
            check=True, timeout=300, capture_output=True,
        )
    return (PACKAGE / "axe.min.js").read_text("utf-8")


# What one audit returns: each violated rule with its impact and the elements it names.
RUN = f"""
window.axe.run(document, {{
  runOnly: {{ type: "tag", values: {json.dumps(TAGS)} }},
  resultTypes: ["violations"],
}}).then((results) => results.violations.map((v) => ({{
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.map((n) => ({{ target: n.target.join(" "), summary: n.failureSummary }})),
}})))
"""
# Entrance animations (a sheet rising, a message fading in) finish first: axe reads colours
# as painted, and a half-transparent sheet has other contrast than the finished one.
SETTLED = """
Promise.all(document.getAnimations()
  .filter((a) => a.effect && a.effect.getTiming().iterations !== Infinity)
  .map((a) => a.finished.catch(() => null))).then(() => true)
"""


@dataclass(frozen=True)
class Violation:
    screen: str
    rule: str
    impact: str
    help: str
    nodes: list[dict[str, str]]

    def __str__(self) -> str:
        where = "; ".join(f"{n['target']}: {n['summary']}" for n in self.nodes[:4])
        count = len(self.nodes)
        return f"[{self.impact}] {self.screen}: {self.rule} ({self.help}) x{count} {where}"


def violations(found: list[dict[str, Any]], screen: str) -> list[Violation]:
    return [Violation(screen, v["id"], v["impact"] or "minor", v["help"], v["nodes"])
            for v in found]


def counts(found: list[Violation]) -> dict[str, int]:
    """How many elements violate a rule, by impact."""
    tally = dict.fromkeys(IMPACTS, 0)
    for violation in found:
        tally[violation.impact] += len(violation.nodes)
    return tally
