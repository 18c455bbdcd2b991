"""One generator run: resolve device, weights and output names, then generate and write.

Everything a user can get wrong is checked before the model loads, and every file name is
checked before the first file is written, so a refused run leaves nothing behind.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from genkit import __version__, device as devices, encode, files, interrupts, progress, provenance as provenance_io, registry, weights
from genkit.artifacts import Audio, Frames, Image, Midi, TextChunk
from genkit.errors import GenkitError, RunError
from genkit.spec import GeneratorSpec

# Outputs writable from each artifact kind.
_WRITABLE = {Image: {"png"}, Frames: {"gif", "webp", "mp4"}, Midi: {"mid", "midi", "wav"}, Audio: {"wav"}, TextChunk: {"txt"}}


@dataclass
class Request:
    spec: GeneratorSpec
    options: dict = field(default_factory=dict)
    n: int = 1
    seed: int | None = None
    device: str | None = None
    output: str | None = None
    overwrite: bool = False
    weights: str | None = None
    json: bool = False
    quiet: bool = False
    grid: str | None = None
    scale: int = 1
    frames_dir: str | None = None


def resolve_weights(spec: GeneratorSpec, user_path: str | None) -> tuple[Path | None, bool]:
    """Return (weights path or None, is_default); checks the file without loading it.

    ``user_path`` is a file, or the short name of weights shipped with the plugin ('mnist').
    """
    if user_path:
        path = Path(user_path)
        if not path.exists():
            shipped = weights.shipped_weights(spec)
            if user_path not in shipped:
                names = ", ".join(shipped) or "none"
                raise GenkitError(f"weights file not found: {user_path} (weights shipped with {spec.name}: {names})")
            path = shipped[user_path]
        weights.read_header(path)
        return path, False
    path = weights.default_weights_path(spec)
    if path is not None:
        if not path.exists():
            raise RunError(
                f"{spec.name}: the shipped weights {path.name} are missing; train some with "
                f"'genkit train {spec.name}' and pass --weights"
            )
        weights.read_header(path)
    return path, True


def command_line(spec: GeneratorSpec, options: dict, seed: int, n: int, weights_arg, is_default) -> str:
    """The genkit command that reproduces an item; ``weights_arg`` is --weights as the user gave it."""
    parts = ["genkit", spec.name]
    for opt in spec.options:
        value = options.get(opt.dest)
        if opt.argument:
            parts.extend(str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v is not None)
        elif opt.type == "bool":
            if value != opt.default:
                parts.append(opt.flag if value else "--no-" + opt.flag[2:])
        elif value is not None and value != opt.default:
            parts += [opt.flag, str(value)]
    parts += ["--seed", str(seed)] + (["--n", str(n)] if n else [])
    if weights_arg is not None and not is_default:
        parts += ["--weights", str(weights_arg)]
    return " ".join(shlex.quote(p) for p in parts)


def execute(req: Request, stdout=None) -> dict:
    """Run a generator end to end and return the manifest of what was written."""
    stdout = stdout or sys.stdout
    spec = req.spec
    if spec.items_from and req.options.get(spec.items_from):
        req.n = len(req.options[spec.items_from])
    if not 1 <= req.n <= spec.max_n:
        raise GenkitError(f"--n must be between 1 and {spec.max_n}, got {req.n}")
    if req.scale < 1 or req.scale > 64:
        raise GenkitError(f"--scale must be between 1 and 64, got {req.scale}")
    seed = devices.new_seed() if req.seed is None else req.seed
    if not 0 <= seed <= devices.MAX_SEED:
        raise GenkitError(f"--seed must be between 0 and {devices.MAX_SEED}")
    for opt in spec.options:
        try:
            opt.check(req.options.get(opt.dest))
        except ValueError as exc:
            raise GenkitError(str(exc)) from None

    streaming = spec.stream and req.output is None and not req.json
    plan = None
    if not streaming:
        plan = files.OutputPlan(req.output, spec.name, spec.outputs, req.n, seed)
        plan.check_free(req.overwrite)
        files.clean_stale_temporaries(plan.path(0).parent)
    companions = {}
    for name in spec.companions:  # path options that receive a picture per item, e.g. --piano-roll
        if req.options.get(name):
            companions[name] = files.OutputPlan(str(req.options[name]), spec.name, ("png",), req.n, seed)
            companions[name].check_free(req.overwrite)
    if req.grid:
        grid_plan = files.OutputPlan(req.grid, spec.name, ("png",), 1, seed)
        grid_plan.check_free(req.overwrite)
    if req.frames_dir:
        files.prepare_folder(Path(req.frames_dir))
        if any(Path(req.frames_dir).glob("**/frame_*.png")) and not req.overwrite:
            raise GenkitError(f"{req.frames_dir} already holds frames; pass --overwrite to replace them")

    weights_path, is_default = resolve_weights(spec, req.weights)
    device = devices.resolve_device(req.device)
    sha = weights.sha256(weights_path) if weights_path else None
    base = {
        "genkit": __version__,
        "generator": spec.name,
        "plugin": spec.plugin,
        "weights": weights_path.name if weights_path else None,
        "weights_sha256": sha,
        "seed": seed,
        "device": device.type,
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in sorted(req.options.items())},
        # No --n here: each file records the command whose last item it is, so a file's bytes
        # do not depend on how many items its run made.
        "command": command_line(spec, req.options, seed, 0, req.weights, is_default),
    }

    implementation = registry.import_implementation(spec)
    generator = implementation(device=device, weights=weights_path)
    manifest = dict(base, command=f"{base['command']} --n {req.n}", files=[])
    texts: dict[int, list[str]] = {}
    grid_images = []
    show = progress.wanted(req.quiet) and not streaming
    produced = 0
    with progress.bar(f"genkit {spec.name}", req.n, show) as advance:
        # "_format" tells a generator which file type it is feeding (e.g. animation or still).
        run_options = dict(req.options, _format=plan.ext if plan else "txt")
        for art in generator.generate(n=req.n, seed=seed, options=run_options):
            provenance = dict(base, index=art.index, item_seed=art.seed, **art.info)
            provenance["command"] = f"{base['command']} --n {art.index + 1}"
            if isinstance(art, TextChunk):
                if streaming:
                    if art.index > 0 and not texts.get(art.index):
                        stdout.write(f"\n\n--- sample {art.index + 1} (seed {art.seed}) ---\n")
                    stdout.write(art.text)
                    stdout.flush()
                texts.setdefault(art.index, []).append(art.text)
                if not art.done:
                    continue
                if not streaming:
                    path = plan.path(art.index)
                    _write_text(path, "".join(texts[art.index]), provenance, req.overwrite)
                    manifest["files"].append(_entry(path, art, "".join(texts[art.index])))
                else:
                    manifest["files"].append(_entry(None, art, "".join(texts[art.index])))
            else:
                path = plan.path(art.index)
                _write_artifact(art, path, plan.ext, provenance, req)
                manifest["files"].append(_entry(path, art))
                if req.grid and isinstance(art, Image):
                    grid_images.append(art.pixels)
                _write_companions(art, req, provenance, companions)
            produced += 1
            advance()
            interrupts.check()
    if streaming:
        stdout.write("\n")
    if produced < req.n:
        raise RunError(f"{spec.name} produced {produced} of {req.n} items")
    if req.grid and grid_images:
        path = grid_plan.path(0)
        files.write_atomic(path, encode.png_bytes(encode.grid(grid_images), dict(base, grid=True), req.scale), req.overwrite)
        manifest["grid"] = str(path)
    return manifest


def _entry(path, art, text=None) -> dict:
    entry = {"path": str(path) if path else None, "index": art.index, "seed": art.seed, **art.info}
    if text is not None:
        entry["text"] = text
    return entry


def _write_text(path: Path, text: str, provenance: dict, overwrite: bool) -> None:
    files.write_atomic(path, text.encode("utf-8"), overwrite)
    sidecar = path.with_name(path.name + provenance_io.SIDECAR_SUFFIX)
    files.write_atomic(sidecar, json.dumps(provenance, indent=2, sort_keys=True).encode(), overwrite=True)


def _write_artifact(art, path: Path, ext: str, provenance: dict, req: Request) -> None:
    kind = type(art)
    if ext not in _WRITABLE.get(kind, set()):
        raise RunError(f"{req.spec.name} yielded {kind.__name__.lower()} output, which cannot be written as .{ext}")
    if kind is Image:
        data = encode.png_bytes(art.pixels, provenance, req.scale)
    elif kind is Frames:
        encoder = {"gif": encode.gif_bytes, "webp": encode.webp_bytes, "mp4": encode.mp4_bytes}[ext]
        data = encoder(art.frames, art.fps, provenance, req.scale)
        if req.frames_dir:
            folder = Path(req.frames_dir) / (f"{art.index:03d}" if req.n > 1 else "")
            for k, frame in enumerate(art.frames):
                files.write_atomic(folder / f"frame_{k:04d}.png", encode.png_bytes(frame, provenance, req.scale), req.overwrite)
    elif kind is Midi and ext in ("mid", "midi"):
        data = encode.midi_bytes(art.midi, provenance)
    else:
        if kind is Midi:
            if art.render_audio is None:
                raise RunError(f"{req.spec.name} cannot render audio")
            samples, rate = art.render_audio()
        else:
            samples, rate = art.samples, art.rate
        data = encode.wav_bytes(samples, rate)
        files.write_atomic(path, data, req.overwrite)
        sidecar = path.with_name(path.name + provenance_io.SIDECAR_SUFFIX)
        files.write_atomic(sidecar, json.dumps(provenance, indent=2, sort_keys=True).encode(), overwrite=True)
        return
    files.write_atomic(path, data, req.overwrite)


def _write_companions(art, req: Request, provenance: dict, plans: dict) -> None:
    """Write pictures an artifact offers for a path option the user set (e.g. --piano-roll)."""
    for option_name, render in getattr(art, "companions", {}).items():
        if option_name not in plans:
            continue
        path = plans[option_name].path(art.index)
        files.write_atomic(path, encode.png_bytes(render(), provenance), req.overwrite)
