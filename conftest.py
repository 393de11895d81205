"""Loaded by pytest before it collects anything.

Under ``--import-mode=importlib`` pytest imports a module it collects for doctests by
executing its file, unless the module is already in ``sys.modules``.  When that module is
also imported by the package's ``__init__`` (nearly all are), the package's import puts it
there halfway through pytest's own, and pytest then executes the file a second time: two
``Message`` classes, and ``isinstance`` checks fail in the tests that run afterwards
(pytest-dev/pytest#10341).  Importing the package here first gives every module one copy,
whatever paths a run names and in whatever order.
"""

import emma_osplus
import emma_osplus.testing

del emma_osplus
