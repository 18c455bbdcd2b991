"""A plugin that raises while being imported (test fixture)."""

raise RuntimeError("this plugin is broken on purpose")
