"""Tests that need an outside tool: skipped with a reason locally, failed in CI (CI=true)."""

import os
import shutil

import pytest


def in_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(path_or_name, why):
    """The tool's path; skip (or, in CI, fail) the test when it is missing."""
    found = path_or_name if os.path.isabs(path_or_name) and os.access(path_or_name, os.X_OK) \
        else shutil.which(path_or_name)
    if found:
        return found
    message = f"{path_or_name} is missing: {why}"
    if in_ci():
        pytest.fail(message + " (CI=true: a missing tool fails the run)")
    pytest.skip(message)  # outside CI only: with CI=true the line above has failed it
