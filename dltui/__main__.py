"""`python -m dltui`: the same as the `dltui` command."""

import sys

from dltui.cli import main

sys.exit(main())
