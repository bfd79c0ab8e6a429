"""The docs describe the code as it is: every setting, error code and test hook is documented."""

from __future__ import annotations

import re

import pytest

from parley import errors
from parley.config import Settings
from tests.live import ROOT

ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text("utf-8")
WEB = ROOT / "parley" / "web"


def env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    if alias is not None:
        return "SENTRY_DSN"  # the one setting named as its vendor names it
    return f"PARLEY_{field.upper()}"


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field: str) -> None:
    assert env_name(field) in ARCHITECTURE, f"{env_name(field)} is missing from architecture.md"


def all_errors() -> list[type[errors.ParleyError]]:
    found: list[type[errors.ParleyError]] = []
    pending = [errors.ParleyError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("code", sorted({cls.code for cls in all_errors()}))
def test_every_error_code_is_documented(code: str) -> None:
    assert f"`{code}`" in ARCHITECTURE, f"error code {code} is missing from architecture.md"


def test_every_test_hook_in_the_web_app_is_documented() -> None:
    sources = [WEB / "index.html", *WEB.glob("js/**/*.js")]
    hooks = set()
    for path in sources:
        text = path.read_text("utf-8")
        # data-testid="x" in HTML, [data-testid=x] in selectors, setAttribute("data-testid",
        # "x") and dataset.testid = "x" in scripts.
        hooks.update(re.findall(r'data-testid="?([a-z0-9-]+)', text))
        hooks.update(re.findall(r'"data-testid",\s*"([a-z0-9-]+)"', text))
        hooks.update(re.findall(r'testid\s*=\s*"([a-z0-9-]+)"', text))
    assert hooks, "no data-testid found: the pattern no longer matches the web app"
    missing = sorted(hook for hook in hooks if f"`{hook}`" not in ARCHITECTURE)
    assert not missing, f"test hooks missing from architecture.md: {missing}"


def test_every_module_in_the_package_is_in_the_layout() -> None:
    modules = sorted(
        path.relative_to(ROOT / "parley").with_suffix("").as_posix()
        for path in (ROOT / "parley").rglob("*.py")
        if "migrations" not in path.parts and path.name != "__init__.py"
    )
    missing = [m for m in modules if m.rsplit("/", 1)[-1] not in ARCHITECTURE]
    assert not missing, f"modules not named in architecture.md's layout: {missing}"
