"""A plugin whose entry module calls sys.exit(0) while being imported (test fixture)."""

import sys

sys.exit(0)
