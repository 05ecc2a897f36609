"""``sources.yaml``, loaded into a typed ``Config``: the newsletter, its sections, labs, themes and
sources, and the settings blocks (``fetch``, ``curation``, ``email``, ``web``, ``archive``), every
one validated at load with errors that name the file, line, entry and field.

This package sits just above the values (``errors``, ``models``, ``urls``): it imports nothing
of the layers that use the settings, so loading a configuration loads no web or email stack.
"""

from __future__ import annotations

from .blocks import (
    DEFAULT_OUT,
    DEFAULT_PORTS,
    SECURITY,
    ArchiveSettings,
    CurationSettings,
    EmailSettings,
    FetchSettings,
    Logo,
    SmtpSettings,
    WebSettings,
    default_contact,
    parse_archive,
    parse_curation,
    parse_email,
    parse_fetch,
    parse_web,
)
from .load import Config, load_config, parse_config
from .reader import ID_RE

__all__ = [
    "DEFAULT_OUT",
    "DEFAULT_PORTS",
    "ID_RE",
    "SECURITY",
    "ArchiveSettings",
    "Config",
    "CurationSettings",
    "EmailSettings",
    "FetchSettings",
    "Logo",
    "SmtpSettings",
    "WebSettings",
    "default_contact",
    "load_config",
    "parse_archive",
    "parse_config",
    "parse_curation",
    "parse_email",
    "parse_fetch",
    "parse_web",
]
