"""Allow ``python -m lambdalab``."""

from lambdalab.cli import main

raise SystemExit(main())
