"""Browser tests."""

import pytest

# The shared flows assert in a plain module: let pytest explain their failures too.
pytest.register_assert_rewrite("tests.browser.flows")
