"""``python -m reti`` is the ``reti`` command."""

from reti.cli.main import main

raise SystemExit(main())
