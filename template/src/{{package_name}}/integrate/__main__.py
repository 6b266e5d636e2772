"""`python -m <package>.integrate`: see cli.py."""

from .cli import main

raise SystemExit(main())
