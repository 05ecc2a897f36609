"""(Being written: see issue 12.) Routes of the editor area, on the editor blueprint."""

from __future__ import annotations

from .editor import bp  # noqa: F401  (routes are added to the editor blueprint)
