"""`genkit models [NAME]`: the generators, one short row each, or everything about one of them.

Everything here comes from specs and from safetensors headers (genkit.weights.metadata): no tensor
is loaded and torch is never imported, so listing stays instant. The class-name completion for
``--class``/``--classes`` lives here too, for the same reason: it reads names from the same headers.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Annotated

import typer

from genkit.classnames import class_names
from genkit.commands.catalog import catalog_lines, local_models
from genkit.errors import GenkitError

DETAIL_METRIC_DIGITS = 4


def _width() -> int:
    from genkit.commands.table import terminal_width

    return terminal_width()


# ---------------------------------------------------------------- facts read from headers


def _safe_metadata(path: Path) -> dict:
    """A weights file's metadata, or {} when its header cannot be read (reported as 'unreadable')."""
    from genkit import weights

    try:
        return weights.metadata(path)
    except GenkitError:
        return {"unreadable": True}


def weights_files(spec) -> list[dict]:
    """Every shipped weights file of a generator, the default first: name, file, bytes, sha256, metadata."""
    from genkit import weights

    default = weights.default_weights_path(spec)
    found = [(name, path) for name, path in weights.shipped_weights(spec).items()]
    if default is not None and all(path != default for _, path in found):
        found.append((default.stem.removeprefix(f"{spec.name}-"), default))
    rows = []
    for name, path in sorted(found, key=lambda item: item[1] != default):
        row = {"name": name, "file": path.name, "default": path == default, "bytes": None, "sha256": None, "meta": {}}
        if path.is_file():
            row.update(bytes=path.stat().st_size, sha256=weights.sha256(path), meta=_safe_metadata(path))
        rows.append(row)
    return rows


def _classes_of(files: list[dict]) -> list[str]:
    default = [f for f in files if f["default"]]
    return class_names(default[0]["meta"]) if default else []


# ---------------------------------------------------------------- genkit models


def _summary_rows(registry, device_arg) -> list[dict]:
    from genkit import device as devices

    rows = []
    for spec in registry.generators.values():
        files = weights_files(spec)
        default = next((f for f in files if f["default"]), None)
        info: dict[str, object] = {"file": None, "bytes": None, "sha256": None}
        if default is not None:
            missing = default["bytes"] is None
            info = {
                "file": default["file"] + (" (missing)" if missing else ""),
                "bytes": default["bytes"],
                "sha256": default["sha256"],
            }
        info["also_shipped"] = [f["name"] for f in files if not f["default"]]
        classes = _classes_of(files)
        rows.append(
            {
                "name": spec.name,
                "modality": spec.modality,
                "summary": spec.summary,
                "plugin": spec.plugin,
                "outputs": list(spec.outputs),
                "trainable": spec.trainable,
                "classes": len(classes),
                "weights_names": [f["name"] for f in files],
                "weights": info,
                "device": devices.guess_device(device_arg, spec),
            }
        )
    return rows


def _print_table(rows: list[dict]) -> None:
    from genkit.commands.table import render
    from genkit.printable import printable

    lines = []
    for row in rows:
        names = row["weights_names"]
        weights = (names[0] + "*" + "".join(f",{n}" for n in names[1:])) if names else "-"
        lines.append(
            [
                row["name"],
                ",".join(row["outputs"]),
                str(row["classes"] or "-"),
                "yes" if row["trainable"] else "no",
                weights,
                printable(row["summary"]),  # a plugin's words, shown in the table or wrapped under it
            ]
        )
    headers = ["generator", "outputs", "classes", "train", "weights", "summary"]
    table = render(headers, lines, flexible=5, right=(2,))
    if len(table.splitlines()[0]) > _width() or any("…" in line for line in table.splitlines()[1:]):
        table = _summaries_below(headers, lines)  # too narrow for a summary column: each one gets its lines
    print(table)
    device = rows[0]["device"] if rows else "cpu"
    note = f"* default weights (others: --weights NAME); device {device}; more: genkit models NAME"
    print("\n" + "\n".join(_wrap(note, _width(), "")))


def _summaries_below(headers: list[str], lines: list[list[str]]) -> str:
    """The table without its summary column, each row followed by its summary wrapped under it."""
    from genkit.commands.table import render

    table = render(headers[:-1], [line[:-1] for line in lines], flexible=4, right=(2,)).splitlines()
    out = [table[0]]
    for row, line in zip(table[1:], lines):
        out += [row, *_wrap(line[-1], _width(), "    ")]
    return "\n".join(out)


def _complete_generators(ctx, incomplete: str) -> list:
    from genkit.completion import complete_generators

    return complete_generators(ctx, incomplete)


def models_command(
    name: Annotated[
        str | None,
        typer.Argument(
            help="A generator: show everything about it.", show_default=False, autocompletion=_complete_generators
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    device: Annotated[str | None, typer.Option("--device", help="Device to report (default: auto).")] = None,
):
    """List every generator (one row each), or show everything about one: options, classes, weights and their metrics."""
    from genkit.registry import load_registry

    registry = load_registry()
    if name is not None:
        detail = describe(registry.get(name), registry, device)
        print(json.dumps(detail, indent=2) if as_json else render_detail(detail, _width()))
        return
    rows = _summary_rows(registry, device)
    if as_json:
        print(
            json.dumps({"generators": [{k: v for k, v in r.items() if k != "weights_names"} for r in rows]}, indent=2)
        )
        return
    _print_table(rows)


# ---------------------------------------------------------------- genkit models NAME


def _option_record(opt) -> dict:
    record = {"flag": opt.flag, "type": opt.type, "default": opt.default, "help": opt.help}
    if opt.min is not None or opt.max is not None:
        record["range"] = opt.range_text()
    if opt.choices:
        record["choices"] = list(opt.choices)
    if opt.argument:
        record["argument"] = True
    return record


def _weights_record(row: dict) -> dict:
    meta = row["meta"]
    training = meta.get("training") if isinstance(meta.get("training"), dict) else {}
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
    return {
        "name": row["name"],
        "file": row["file"],
        "default": row["default"],
        "bytes": row["bytes"],
        "sha256": row["sha256"],
        "data": meta.get("data"),
        "classes": class_names(meta),
        "training": {k: training[k] for k in ("epochs", "steps", "train_seconds") if k in training},
        "metrics": metrics,
        "unreadable": bool(meta.get("unreadable")),
    }


def describe(spec, registry, device_arg=None) -> dict:
    """Everything known about one generator without loading it, as plain data (the --json form)."""
    from genkit import device as devices
    from genkit.commands.aliases import yours
    from genkit.commands.defaults import shown_for

    plugin = next((p for p in registry.plugins if p.name == spec.plugin), None)
    files = weights_files(spec)
    return {
        "name": spec.name,
        "summary": spec.summary,
        "modality": spec.modality,
        "plugin": spec.plugin,
        "plugin_kind": ("built-in" if plugin.builtin else "third-party") if plugin else None,
        "distribution": plugin.distribution if plugin else None,
        "version": plugin.version if plugin else None,
        "outputs": list(spec.outputs),
        "trainable": spec.trainable,
        "max_n": spec.max_n,
        "device": devices.guess_device(device_arg, spec),
        "classes": _classes_of(files),
        "yours": yours(spec),  # the user's aliases and runs
        "user_defaults": shown_for(spec),
        "options": [_option_record(o) for o in spec.options],
        "train_options": [_option_record(o) for o in spec.train_options] if spec.trainable else [],
        "weights": [_weights_record(f) for f in files],
        "local_models": local_models(spec),
    }


def _value(v) -> str:
    if isinstance(v, bool) or v is None:
        return str(v).lower() if isinstance(v, bool) else "none"
    if isinstance(v, float):
        return f"{v:.{DETAIL_METRIC_DIGITS}g}"
    return str(v)


def _wrap(text: str, width: int, indent: str) -> list[str]:
    return textwrap.wrap(
        text, width=max(width, 40), initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
    ) or [indent.rstrip()]


def _option_lines(options: list[dict], width: int) -> list[str]:
    lines = []
    for o in options:
        kind = "|".join(o["choices"]) if o.get("choices") else ("" if o["type"] == "bool" else o["type"].upper())
        head = f"  {o['flag'][2:] if o.get('argument') else o['flag']} {kind}".rstrip()
        facts = ([f"range {o['range']}"] if "range" in o else []) + [f"default {_value(o['default'])}"]
        lines += _wrap(f"{head}  ({', '.join(facts)})", width, "") if len(head) < width else [head]
        lines += _wrap(o["help"], width, "      ")
    return lines


def _weights_lines(w: dict, classes: list[str], width: int) -> list[str]:
    size = f"{w['bytes'] / 1e6:.2f} MB" if w["bytes"] is not None else "missing"
    sha = f"sha256 {w['sha256'][:12]}" if w["sha256"] else ""
    lines = [f"  {w['name']}{' (default)' if w['default'] else ''}  {w['file']}  {size}  {sha}".rstrip()]
    if w["unreadable"]:
        return lines + ["      (its header cannot be read)"]
    t = w["training"]
    trained = ", ".join(
        part
        for part in (
            f"{_value(t['epochs'])} epochs" if "epochs" in t else "",
            f"{t['steps']} steps" if "steps" in t else "",
            f"{t['train_seconds'] / 60:.1f} min" if "train_seconds" in t else "",
        )
        if part
    )
    about = "; ".join(
        p for p in (f"data {w['data']}" if w["data"] else "", f"trained {trained}" if trained else "") if p
    )
    if about:
        lines += _wrap(about, width, "      ")
    if w["classes"] and w["classes"] != classes:
        lines += _wrap("classes " + ", ".join(w["classes"]), width, "      ")
    if w["metrics"]:
        lines += _wrap("metrics " + " ".join(f"{k}={_value(v)}" for k, v in w["metrics"].items()), width, "      ")
    return lines


def render_detail(d: dict, width: int) -> str:
    """The text form of ``describe``: wrapped to ``width`` columns, names and flags never cut."""
    lines = _wrap(f"{d['name']}: {d['summary']}", width, "")
    origin = ", ".join(
        x for x in (d["plugin_kind"], f"{d['distribution']} {d['version']}".strip() if d["distribution"] else "") if x
    )
    facts = [
        ("plugin", f"{d['plugin']} ({origin})" if origin else d["plugin"]),
        ("outputs", f"{', '.join(d['outputs'])} (at most --n {d['max_n']})"),
        ("trainable", f"yes: genkit train {d['name']}, genkit eval {d['name']}" if d["trainable"] else "no"),
        ("device", d["device"]),
        ("classes", f"{len(d['classes'])}: {', '.join(d['classes'])}" if d["classes"] else "-"),
    ]
    lines.append("")
    for key, text in facts:
        wrapped = _wrap(text, width, " " * 13)
        lines += [f"  {key:<10} {wrapped[0].lstrip()}"] + wrapped[1:]
    for title, options in (("options", d["options"]), ("train options", d["train_options"])):
        if options:
            lines += ["", title] + _option_lines(options, width)
    lines += ["", "weights"]
    for w in d["weights"]:
        lines += _weights_lines(w, d["classes"], width)
    from genkit.commands.aliases import lines_for

    lines += lines_for(d)  # the user's aliases, runs and defaults
    if not d["weights"]:
        lines.append("  none" if d.get("local_models") is not None else "  none (this generator needs no weights)")
    lines += catalog_lines(d.get("local_models"), d["name"])
    from genkit.printable import printable

    return "\n".join(printable(line) for line in lines)  # specs and weights metadata come from plugins
