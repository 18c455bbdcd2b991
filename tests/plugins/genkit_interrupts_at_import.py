"""A plugin that raises KeyboardInterrupt and a custom BaseException subclass at import (test fixture)."""


class Escape(BaseException):
    pass


raise Escape("a BaseException that is neither Exception nor SystemExit")
