"""``python -m emma_osplus`` runs the command line."""

from ._cli import main

raise SystemExit(main())
