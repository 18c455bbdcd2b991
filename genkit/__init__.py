"""genkit: small generative models behind one command line, extended by plugins.

Importing genkit is cheap: torch and every model load only when a generator runs.
"""

__version__ = "0.1.0"


def load(name: str, device: str = "auto", weights=None):
    """Return a ready generator by name, e.g. ``genkit.load("image", device="cpu")``."""
    from genkit.api import load as _load

    return _load(name, device=device, weights=weights)


__all__ = ["__version__", "load"]
