"""One generator run: validate, plan every file, load the model, write each artifact, finish.

Everything a user can get wrong is checked before the model loads, and every name the run will
write (items, sidecars, grids, piano rolls) is checked before the first file is written, so a
refused run leaves nothing behind. What each file looks like is the business of its writer.
"""

from __future__ import annotations

import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from genkit import __version__, files, interrupts, lookup, progress, weights
from genkit import device as devices
from genkit.classnames import check_named_classes
from genkit.contract import Generator, check_implements
from genkit.errors import GenkitError, RunError
from genkit.printable import printable
from genkit.registry import Registry, import_implementation, load_registry
from genkit.spec import GeneratorSpec
from genkit.validation import check_values
from genkit.writers import Writer, WriteRun, kind_for, make_writer, options_for, shapes_the_file


@dataclass
class Request:
    spec: GeneratorSpec
    options: dict = field(default_factory=dict)  # the generator's own options, by Option.key
    n: int = 1
    seed: int | None = None
    device: str | None = None
    outputs: list[str] = field(default_factory=list)  # -o values; several may name different formats
    overwrite: bool = False
    weights: str | None = None
    json: bool = False
    quiet: bool = False
    writer_options: dict = field(default_factory=dict)  # --grid, --scale, ... by Option.key
    typed: str | None = None  # the command line as the user typed it, for the history
    defaults: dict = field(default_factory=dict)  # values taken from the user's `genkit defaults`, by key
    # The generators and output kinds the run sees: the command line's own, looked up once.
    registry: Registry = field(default_factory=load_registry)


@dataclass
class Target:
    """One output of the run: where items go (None: streamed to stdout) and who writes them."""

    plan: files.OutputPlan | None
    writer: Writer

    def path(self, index: int) -> Path | None:
        return self.plan.path(index) if self.plan else None

    @property
    def file_plan(self) -> files.OutputPlan:
        """The plan of a target that writes files (every target but a stream's)."""
        assert self.plan is not None, "a streamed output has no file names"
        return self.plan


def execute(req: Request) -> dict:
    """Run a generator end to end and return the manifest of what was written."""
    started = time.time()
    n, seed = validate(req)
    targets = plan_outputs(req, n, seed)
    weights_path, is_default = lookup.resolve(weights_owner(req), req.weights)
    check_named_classes(req.spec, req.options, weights_path)
    device = devices.device_for(req.spec, req.device)
    generator = load_generator(req.spec, device, weights_path)
    base = dict(base_provenance(req, seed, device, weights_path, is_default), **load_model(generator, req))
    manifest = dict(base, command=f"{base['command']} --n {n}", files=[])
    try:
        write_all(generator, req, n, seed, targets, base, manifest)
        for target in targets:
            manifest.update(target.writer.finish(base))
    except BaseException as exc:  # a failed or interrupted run is history too, with what it did write
        _record(manifest, req.typed or manifest["command"], started, exc)
        raise
    _record(manifest, req.typed or manifest["command"], started)
    return manifest


def validate(req: Request) -> tuple[int, int]:
    """Check counts, seed and every option value; return (item count, run seed)."""
    spec = req.spec
    n = req.n
    for opt in spec.options:
        if opt.one_item_each and req.options.get(opt.key):
            n = len(req.options[opt.key])  # one item per value, e.g. one reconstruction per input image
    if not 1 <= n <= spec.max_n:
        raise GenkitError(f"--n must be between 1 and {spec.max_n}, got {n}")
    seed = devices.new_seed() if req.seed is None else req.seed
    if not 0 <= seed <= devices.MAX_SEED:
        raise GenkitError(f"--seed must be between 0 and {devices.MAX_SEED}")
    check_values(spec.options, req.options, spec.plugin)
    check_values(options_for(spec, req.registry.kinds), req.writer_options)
    return n, seed


def plan_outputs(req: Request, n: int, seed: int) -> list[Target]:
    """Decide every output name and check it is free before any work; one target per -o."""
    kinds = req.registry.kinds
    default = kind_for(req.spec.outputs[0], kinds)
    to_stdout = req.outputs == ["-"] or not req.outputs
    if to_stdout and default.streams and not req.json:  # text: -o - (or no -o) streams to stdout
        run = WriteRun(req.spec.name, n, seed, req.overwrite, _values_for(default, req.writer_options, set()))
        target = Target(None, make_writer(default, run))
        target.writer.check([])
        return [target]
    targets, seen_exts, claimed = [], set(), set[str]()
    for output in req.outputs if req.outputs else [None]:
        plan = files.OutputPlan(output, req.spec.name, req.spec.outputs, n, seed)
        if plan.ext in seen_exts:
            raise GenkitError(f"two outputs write .{plan.ext}; give each -o its own format")
        seen_exts.add(plan.ext)
        kind = kind_for(plan.ext, kinds)
        run = WriteRun(req.spec.name, n, seed, req.overwrite, _values_for(kind, req.writer_options, claimed))
        plan.check_free(req.overwrite)
        files.clean_stale_temporaries(plan.path(0).parent)
        targets.append(Target(plan, make_writer(kind, run)))
    _refuse_unused(req, targets)
    for target in targets:
        target.writer.check([target.file_plan.path(i) for i in range(n)])
    _check_distinct(targets, n)
    return targets


def _check_distinct(targets: list[Target], n: int) -> None:
    """Items, sidecars, grids, piano rolls and frame folders of every output: no two the same name."""
    planned, folders = [], []
    for target in targets:
        items = [target.file_plan.path(i) for i in range(n)]
        extra_files, extra_folders = target.writer.planned(items)
        planned += [(p, f"item of -o {target.file_plan.pattern}") for p in items]
        planned += [(p, f"a file the {target.writer.kind.name} writer adds") for p in extra_files]
        folders += [(p, f"a folder the {target.writer.kind.name} writer fills") for p in extra_folders]
    files.check_distinct(planned, folders)
    for folder in {p.parent for p, _ in planned}:  # grids and piano rolls may go elsewhere than the items
        files.clean_stale_temporaries(folder)


def _values_for(kind, values: dict, claimed: set) -> dict:
    """A writer's option values; an option naming extra files goes to the first output that takes it."""
    own = {o.key: values.get(o.key, o.default) for o in kind.options if shapes_the_file(o) or o.key not in claimed}
    claimed.update(o.key for o in kind.options if not shapes_the_file(o))
    return own


def _refuse_unused(req: Request, targets: list[Target]) -> None:
    """An output option no output of this run uses (--piano-roll with only -o x.gif) is a mistake."""
    used = {key for t in targets for key in t.writer.run.values}
    for opt in options_for(req.spec, req.registry.kinds):
        if opt.key not in used and req.writer_options.get(opt.key, opt.default) != opt.default:
            raise GenkitError(
                f"{opt.flag} does not apply to {', '.join('.' + t.file_plan.ext for t in targets)} output"
            )


def weights_owner(req: Request) -> GeneratorSpec:
    """The generator whose weights ``--weights`` names: the run's own, or the one its spec's
    ``weights_from`` option names (``genkit video --source image --weights emoji``)."""
    other = req.options.get(req.spec.weights_from) if req.spec.weights_from else None
    if not other:  # with it, even the default weights are the source's: the file records what was used
        return req.spec
    spec = req.registry.generators.get(str(other))
    if spec is None:
        flag = "--" + str(req.spec.weights_from).replace("_", "-")  # set: `other` came from it
        raise GenkitError(f"{flag} {other}: no generator of that name (genkit models lists them)")
    return spec


def load_generator(spec: GeneratorSpec, device, weights_path):
    """Import the implementation, check it against the Generator protocol, build it."""
    implementation = import_implementation(spec)
    check_implements(implementation, Generator, f"generator {spec.name!r} of plugin {spec.plugin!r}")
    return implementation(device=device, weights=weights_path)


def load_model(generator, req: Request) -> dict:
    """The optional ``load_model(options)`` of a generator whose options name its model (``--model``):
    called once before any file is written; what it returns (source, revision, ``files``: each weights
    file's sha256, ...) is every file's ``model`` provenance and the run's weights in the history."""
    load = getattr(generator, "load_model", None)
    if load is None:
        from genkit.provenance import loaded_fields

        return loaded_fields(generator)
    try:
        record = load(dict(req.options))
    except (GenkitError, KeyboardInterrupt):
        raise
    except BaseException as exc:
        what = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
        raise RunError(f"generator {req.spec.name!r} failed while loading its model ({what})") from exc
    if not isinstance(record, dict):
        raise RunError(f"generator {req.spec.name!r}: load_model() must return a dict of what it loaded")
    from genkit.provenance import model_fields

    return model_fields(record)


def command_line(spec: GeneratorSpec, options: dict, seed: int, weights_arg, is_default, writer_options=()) -> str:
    """The genkit command that reproduces a run's items; ``weights_arg`` is --weights as given.

    ``options`` holds the generator's values and the writers'; ``writer_options`` are the writer options
    that shape the file (--scale, ...), those naming extra files (--grid, ...) are not part of it.
    """
    parts = ["genkit", spec.name]
    for opt in (*spec.options, *writer_options):
        value = options.get(opt.key)
        if opt.argument:  # an optional argument left at its default ("") is not written as ''
            values = value if isinstance(value, (list, tuple)) else [value]
            parts.extend(str(v) for v in values if v is not None and not (v == opt.default and not opt.multiple))
        elif opt.type == "bool":
            if value != opt.default:
                parts.append(opt.flag if value else "--no-" + opt.flag[2:])
        elif value is not None and value != opt.default:
            parts += [opt.flag, str(value)]
    parts += ["--seed", str(seed)]
    if weights_arg is not None and not is_default:
        parts += ["--weights", str(weights_arg)]
    return shlex.join(parts)


def base_provenance(req: Request, seed: int, device, weights_path, is_default) -> dict:
    shaping = [o for o in options_for(req.spec, req.registry.kinds) if shapes_the_file(o)]
    return {
        "genkit": __version__,
        "generator": req.spec.name,
        "plugin": req.spec.plugin,
        "weights": weights_path.name if weights_path else None,
        "weights_sha256": weights.sha256(weights_path) if weights_path else None,
        "seed": seed,
        "device": device.type,
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in sorted(req.options.items())},
        "output_options": {o.key: req.writer_options.get(o.key, o.default) for o in shaping},
        **({"defaults": req.defaults} if req.defaults else {}),  # the command below spells them out
        # No --n here: each file records the command whose last item it is, so a file's bytes
        # do not depend on how many items its run made.
        "command": command_line(
            req.spec,
            {**req.options, **req.writer_options},
            seed,
            lookup.recorded(weights_owner(req), req.weights),
            is_default,
            shaping,
        ),
    }


def reproduce_command(run_command: str, index: int, path: Path | None, default_ext: str) -> str:
    """The command whose last item is item ``index``, writing the same format as ``path``."""
    command = f"{run_command} --n {index + 1}"
    if path is not None and path.suffix.lower().lstrip(".") != default_ext:
        command += " -o " + shlex.quote("reproduced-{i}" + path.suffix.lower())
    return command


def item_provenance(base: dict, artifact, target: Target, default_ext: str) -> dict:
    """An item's record; its command writes the same format as the file it is stored in."""
    command = reproduce_command(base["command"], artifact.index, target.path(artifact.index), default_ext)
    return dict(base, index=artifact.index, item_seed=artifact.seed, **artifact.info, command=command)


def write_all(generator, req: Request, n: int, seed: int, targets: list[Target], base: dict, manifest: dict) -> None:
    """Feed each artifact to every target; stop at the next file boundary on Ctrl-C or SIGTERM."""
    fmt = targets[0].plan.ext if targets[0].plan else req.spec.outputs[0]
    show = progress.wanted(req.quiet) and targets[0].plan is not None
    done = 0
    with progress.bar(f"genkit {req.spec.name}", n, show) as advance:
        for artifact in failing_run(
            generator.generate(n=n, seed=seed, options=dict(req.options), format=fmt), req.spec, manifest
        ):
            complete = False
            for target in targets:
                provenance = item_provenance(base, artifact, target, req.spec.outputs[0])
                # A path is None only for a streaming kind, whose writer accepts None.
                row = target.writer.write(artifact, target.path(artifact.index), provenance)  # type: ignore[arg-type]
                if row is not None:
                    manifest["files"].append(row)
                    complete = True
            if complete:
                done += 1
                advance()
            interrupts.check()
    if done < n:
        raise _failure(f"{req.spec.name} produced {done} of {n} items", manifest)


def failing_run(items, spec: GeneratorSpec, manifest: dict):
    """Iterate a plugin's generator; anything it raises (even SystemExit) fails the run with exit 1."""
    try:
        yield from items
    except (GenkitError, KeyboardInterrupt, GeneratorExit):  # GeneratorExit: the loop closed us
        raise
    except BaseException as exc:
        what = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
        raise _failure(f"generator {spec.name!r} failed while generating ({what})", manifest) from exc


def _failure(message: str, manifest: dict) -> RunError:
    written = [f["path"] for f in manifest["files"] if f.get("path")]
    error = RunError(
        f"{message}; {len(written)} file(s) were written completely" + (f", the last {written[-1]}" if written else "")
    )
    error.manifest = manifest
    return error


def _record(manifest: dict, command: str, started: float, error: BaseException | None = None) -> None:
    """Add the run to the user's history (genkit logs); a broken history never fails a run."""
    try:
        from genkit.history import record_run
    except ImportError:
        return
    record_run(manifest, command, started, time.time(), error)


def echo_summary(manifest: dict) -> None:
    """One line on stderr naming what was written."""
    paths = [f["path"] for f in manifest["files"] if f.get("path")]
    if not paths:
        return
    where = paths[0] if len(paths) == 1 else f"{len(paths)} files, {paths[0]} ... {paths[-1]}"
    grid = f" and grid {manifest['grid']}" if manifest.get("grid") else ""
    print(printable(f"wrote {where}{grid}"), file=sys.stderr)  # file names are the user's
