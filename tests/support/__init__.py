"""Shared fixtures and builders of the test suite, one module per kind; tests/conftest.py
registers them (``pytest_plugins``) and re-exports their helpers."""

import pytest

# conftest.py imports these modules before pytest loads them as plugins: register them first,
# so that their asserts (WebClient.hidden's, for one) still report like a test's.
pytest.register_assert_rewrite("support.browser", "support.builders", "support.feed_server", "support.web")
