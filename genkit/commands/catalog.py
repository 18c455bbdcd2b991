"""The models on disk a wrapped library's generator can run, for `genkit models NAME`.

A generator whose spec names a ``catalog`` function (``genkit models diffusion``) lists what that
light function finds: the core knows no library, it asks the plugin and prints the rows.
"""

from __future__ import annotations

FIELDS = ("id", "revision", "bytes", "class")


def local_models(spec) -> list[dict] | None:
    """The catalog's rows (id, revision, bytes, class, and anything else it adds), or None without one."""
    if spec.catalog is None:
        return None
    from genkit.registry import call_plugin, import_object

    find = import_object(spec.catalog, spec.plugin, f"the catalog of {spec.name!r}")
    rows = call_plugin(lambda: list(find()), spec.plugin, f"the catalog of {spec.name!r}")
    return [
        {k: row.get(k) for k in (*FIELDS, *sorted(set(row) - set(FIELDS)))} for row in rows if isinstance(row, dict)
    ]


def catalog_lines(rows: list[dict] | None, name: str) -> list[str]:
    """The text form: one line per model, a hint when there are none."""
    if rows is None:
        return []
    lines = ["", "models on disk (--model ID)"]
    for row in rows:
        size = f"{row['bytes'] / 1e6:.1f} MB" if isinstance(row.get("bytes"), (int, float)) else "?"
        revision = str(row.get("revision") or "-")[:12]
        lines.append(f"  {row.get('id')}  {revision}  {size}  {row.get('class') or '-'}")
    if not rows:
        lines.append(f"  none found; fetch one with genkit pull ORG/NAME, or give genkit {name} --model FOLDER")
    return lines
