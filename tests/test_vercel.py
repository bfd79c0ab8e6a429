"""The Vercel deployment: `scripts/vercel-build.sh` builds it offline, then the built function
is served from its own files on Python 3.12 and talks to the fake OpenAI server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from packaging.requirements import Requirement

from tests.fakes.openai_server import FakeOpenAI, Script
from tests.live import ROOT, ParleyProcess

SCRIPT = ROOT / "scripts" / "vercel-build.sh"
BUILT = ROOT / ".cache" / "vercel" / "app"  # the script builds a copy of the tree here
OUTPUT = BUILT / ".vercel" / "output"
FUNCTION = OUTPUT / "functions" / "api" / "index.func"
PYTHON = ROOT / ".cache" / "vercel" / "bin" / "python3.12"  # the script's Python 3.12
LOGS = ROOT / "test-artifacts" / "vercel"
PREREQUISITE_MISSING = 3  # the script's exit status when npm or Python 3.12 is missing
# A first build installs the CLI from npm and every package from PyPI; later ones reuse both.
BUILD_SECONDS = 900
START_SECONDS = 90

KEY = "sk-test-0123456789abcdef0123"
REPLY = "Which step do people abandon most often?"

# Tool-only or heavy packages that must stay out of the function (its `_vendor/` folder).
NOT_IN_FUNCTION = (
    "llama_cpp", "faster_whisper", "ctranslate2", "onnxruntime", "piper", "numpy", "av",
    "typer", "rich", "pygments", "coredis", "beartype", "uvloop",
    "pytest", "playwright", "mypy", "ruff",
)
# 101.5 MB when this was written, 122.2 MB once Pillow came (pictures in a turn, about 21 MB);
# Vercel refuses functions over 250 MB unzipped.
SIZE_BUDGET = 140_000_000

# Root dependencies the function leaves out, and why. Any other root dependency must be in
# api/pyproject.toml too, with the same version range.
LEFT_OUT = {
    "typer": "the command line only; it brings rich and pygments",
    "aiosqlite": "a SQLite file does not outlive a serverless invocation",
}

# What the function's handler (vc__handler__python.py) does before importing the app, then
# uvicorn instead of Vercel's runtime. -S keeps the interpreter's own site-packages out, so only
# the function's files are importable.
LAUNCH = """
import os, site, sys
vendor = os.path.abspath("_vendor")
site.addsitedir(vendor)
sys.path.remove(vendor)
sys.path.insert(1, vendor)
import uvicorn
uvicorn.run("api.index:app", host=os.environ["PARLEY_HOST"], port=int(os.environ["PARLEY_PORT"]))
"""


def dependencies(pyproject: Path) -> dict[str, Requirement]:
    project: dict[str, Any] = tomllib.loads(pyproject.read_text())["project"]
    found = (Requirement(line) for line in project["dependencies"])
    return {requirement.name: requirement for requirement in found}


def test_function_dependencies_follow_the_project() -> None:
    project = dependencies(ROOT / "pyproject.toml")
    function = dependencies(ROOT / "api" / "pyproject.toml")
    assert set(project) - set(function) == set(LEFT_OUT)
    assert not set(function) - set(project)
    for name, requirement in function.items():
        assert requirement.specifier == project[name].specifier, name
        assert requirement.extras <= project[name].extras, name


@pytest.fixture(scope="module")
def build() -> dict[str, Any]:
    """Run the build script once; the function's .vc-config.json."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / "build.log"
    with log_path.open("wb") as log:
        # Its own session, so a timeout stops npm, node and uv too.
        process = subprocess.Popen(
            [SCRIPT], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            status = process.wait(timeout=BUILD_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail(f"the Vercel build took over {BUILD_SECONDS} s; see {log_path}")
    output = log_path.read_text()
    if status == PREREQUISITE_MISSING:
        pytest.skip(output.strip().splitlines()[-1])
    assert status == 0, f"the Vercel build failed:\n{output[-3000:]}"
    config: dict[str, Any] = json.loads((FUNCTION / ".vc-config.json").read_text())
    return config


@pytest.fixture(scope="module")
def function_dir(build: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The function as Vercel would unzip it: its filePathMap, copied into one folder."""
    task = tmp_path_factory.mktemp("index.func")
    for inside, source in build["filePathMap"].items():
        (task / inside).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(BUILT / source, task / inside)
    return task


@pytest.fixture(scope="module")
def function_url(
    build: dict[str, Any], function_dir: Path, fake_openai_server: FakeOpenAI
) -> Iterator[str]:
    """The built function served by uvicorn, with its environment and the fake's URL."""
    env = {**build["environment"], "PARLEY_OPENAI_BASE_URL": fake_openai_server.base_url}
    server = ParleyProcess(
        env, LOGS / "function.log", command=[str(PYTHON), "-S", "-c", LAUNCH], cwd=function_dir
    )
    server.start(timeout=START_SECONDS)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.mark.vercel
def test_static_output_is_the_web_app(build: dict[str, Any]) -> None:
    static = OUTPUT / "static"
    assert (static / "index.html").is_file()
    assert (static / "js" / "app.js").is_file()
    web = ROOT / "parley" / "web"
    assert {p.relative_to(static) for p in static.rglob("*") if p.is_file()} == {
        p.relative_to(web) for p in web.rglob("*") if p.is_file()
    }


@pytest.mark.vercel
def test_function_is_lean_and_on_python_312(build: dict[str, Any]) -> None:
    assert build["runtime"] == "python3.12"
    bundled = build["filePathMap"]
    packages = {inside.split("/")[1] for inside in bundled if inside.startswith("_vendor/")}
    assert not packages & set(NOT_IN_FUNCTION)
    size = sum((BUILT / source).stat().st_size for source in bundled.values())
    assert size < SIZE_BUDGET


@pytest.mark.vercel
def test_function_answers_health_and_a_turn(function_url: str, fake: FakeOpenAI) -> None:
    fake.script(Script(reply=REPLY))
    with httpx.Client(base_url=function_url, timeout=30) as client:
        assert client.get("/api/health").status_code == 200
        response = client.post(
            "/api/conversation", json={"message": "Our onboarding feels heavy.", "apiKey": KEY}
        )
    assert response.status_code == 200
    assert response.json()["reply"] == REPLY
    [request] = fake.requests_for("chat")
    assert request.api_key == KEY
