"""``python -m prelib`` is the ``prelib`` command."""

from prelib.cli import main

raise SystemExit(main())
