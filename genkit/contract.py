"""The plugin contract: the hooks a plugin implements and the Protocols its classes satisfy.

A plugin is a module registered under the ``genkit`` entry-point group. Its entry module stays
light (no torch): it implements the hooks below with ``@genkit.hookimpl`` and hands genkit plain
descriptions. The heavy classes those descriptions name are imported only when used, and are
checked against the Protocols here at that moment, so a missing member is one readable line.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pluggy

if TYPE_CHECKING:
    from genkit.spec import ArtifactKind, GeneratorSpec

hookspec = pluggy.HookspecMarker("genkit")
hookimpl = pluggy.HookimplMarker("genkit")


@hookspec
def genkit_register_generators(register: Callable[[GeneratorSpec], None]) -> None:
    """Declare generators by calling ``register(GeneratorSpec(...))`` once for each.

    ``register`` raises ``ValueError`` for a malformed spec. A name already taken by another
    plugin is not an error for the caller: genkit keeps the first owner (built-ins, then installed
    third parties alphabetically, then $GENKIT_PLUGINS modules) and reports the conflict. Names of
    genkit's own commands are reserved and are reported the same way.
    """


@hookspec
def genkit_register_artifact_kinds(register: Callable[[ArtifactKind], None]) -> None:
    """Declare output kinds by calling ``register(ArtifactKind(...))`` once for each.

    A kind names the file extensions its writer encodes, the writer class (imported only when a
    file of that kind is written) and the CLI options the writer adds. genkit's own kinds (image,
    frames, midi, audio, text) are registered through this same hook by ``genkit.writers.builtin``.
    An extension already owned by another kind is reported as a conflict and ignored.
    """


# ---------------------------------------------------------------- the classes a plugin provides
# Protocols, not base classes: a plugin needs no genkit import in its model code. The core checks
# an implementation against them when it imports it (check_implements) and names what is missing.


@runtime_checkable
class Generator(Protocol):
    """What ``GeneratorSpec.implementation`` names.

    Built as ``Generator(device=torch.device, weights=Path | None)`` (``device`` is a
    ``genkit.device.HostCPU`` when the spec says ``uses_torch=False``); ``generate`` yields artifacts
    (genkit.Image, Frames, ...) for items ``0..n-1``, each with its own seed ``item_seed(seed, i)``.
    ``options`` holds every declared option by ``Option.key``; ``format`` is the extension of the
    first output the user asked for ("png", "gif", "txt", ...), so a generator that can make stills
    or animations knows which one is wanted. Optional: ``training_task(data, options, config)``
    (classmethod) for trainable generators, ``class_names`` for class-conditional ones, and
    ``load_model(options)`` for a generator whose options name its model (``--model`` of a wrapped
    library): genkit calls it once before any file is written, and the dict it returns (source,
    revision, ``files``: the sha256 of each weights file, class, dtype, ...) goes into every file's
    provenance as ``model`` and into the history (genkit.provenance.model_fields).
    """

    def generate(self, n: int, seed: int, options: dict[str, Any], format: str) -> Iterator[Any]: ...


@runtime_checkable
class LatentSpace(Protocol):
    """A generator whose images come from latent codes; `genkit video --source NAME` walks it.

    ``sample_latents(seeds)`` returns a (k, d) array or tensor, one code per seed;
    ``decode(latents, classes=None)`` returns k uint8 images; ``classes`` is a (k, C) array of class
    weights (one-hot rows, or blends) for class-conditional sources, which list ``class_names``
    (None when unconditional).
    """

    class_names: list[str] | None

    def sample_latents(self, seeds: list[int]) -> Any: ...

    def decode(self, latents: Any, classes: Any = None) -> Any: ...


# The third Protocol, the training task, lives with the loop that drives it (genkit.train.protocol,
# exported as genkit.TrainingTask): its defaults read weights, which sit above this contract.

_PARAMETERS = {"generate": ("n", "seed", "options", "format"), "sample_latents": ("seeds",), "decode": ("latents",)}


def protocol_members(protocol: type) -> list[str]:
    """The public members a Protocol declares: its methods and annotated attributes."""
    declared = set(getattr(protocol, "__annotations__", {})) | set(vars(protocol))
    return sorted(m for m in declared if not m.startswith("_"))


def check_implements(obj: object, protocol: type, where: str) -> None:
    """Raise RunError naming the first member of ``protocol`` that ``obj`` lacks or mistypes."""
    from genkit.errors import RunError

    for name in protocol_members(protocol):
        if not hasattr(obj, name):
            raise RunError(f"{where} does not implement {protocol.__name__}: it has no {name!r}")
        wanted = _PARAMETERS.get(name)
        member = getattr(obj, name)
        if wanted is None:
            continue
        if not callable(member):
            raise RunError(f"{where}: {name!r} must be a method")
        try:
            params = inspect.signature(member).parameters
        except (TypeError, ValueError):
            continue
        accepts_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        missing = [p for p in wanted if p not in params and not accepts_any]
        if missing:
            raise RunError(f"{where}: {name}() must accept {', '.join(wanted)} (missing {', '.join(missing)})")
