"""Sphinx configuration: Markdown pages (MyST), API reference from docstrings."""

from __future__ import annotations

import sys
from pathlib import Path

import emma_osplus

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "emma_osplus"
author = "emma_osplus developers"
copyright = "2026, emma_osplus developers"
version = release = emma_osplus.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "emma_messages",
    "emma_diagrams",
    "emma_catalogue",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
# The tutorial notebook is executed by every build; a failing cell fails the build.
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 120
nb_execution_show_tb = True
exclude_patterns = ["_build", "**/_build"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
nitpicky = False
suppress_warnings = ["myst.xref_missing"]
html_theme = "alabaster"
html_title = "emma_osplus"
