"""How the tunes `genkit music` writes end, read back from the MIDI files, against the data's.

For each weights file (default: the shipped model) it runs `genkit music --bars B --n N --seed S`
once per meter asked for, reads every written file back into genkit's key-normalised events (the
key from the file's own key signature) and measures its last note (genkit_music.metrics.ending):
the share that end on the tonic, the share that end in a cadence (on the tonic and lasting a beat
or more) and the final note's mean length in sixteenths. The data row is the test split of
`--data`, whole tunes. Issue 33's goal: at least 70% on the tonic (the Nottingham tunes: 78% of all
files, 73% of the test split).

With ``--close-tries 8,0`` (the default) each length is measured as `genkit music` writes it (the
last bar redrawn up to 8 times until it closes) and as first drawn.

Run: python bench/music_endings.py [--weights nottingham ../runs/music/run] [--bars 8,16,32] [--n 50]
     [--close-tries 8,0] [--meters 4/4,6/8] [--data ../shared/data/music/nottingham] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def written_endings(weights: str, bars: int, n: int, meter: str, seed: int, tries: int) -> list[dict]:
    import pretty_midi

    from genkit_music import data, metrics

    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "genkit", "music", "--weights", weights, "--bars", str(bars)]
        command += ["--n", str(n), "--seed", str(seed), "--time-signature", meter, "--close-tries", str(tries)]
        command += ["-o", f"{tmp}/", "--quiet"]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode:
            sys.exit(proc.stderr.strip())
        rows = []
        for path in sorted(Path(tmp).glob("*.mid")):
            tune = data.encode_midi(pretty_midi.PrettyMIDI(str(path)), path.name, strict_range=False)
            rows.append(metrics.ending(tune.events, meter))
        return rows


def data_endings(folder: str) -> list[dict]:
    from genkit_music import data, metrics

    tunes = data.load_splits(Path(folder))["test"]
    return [metrics.ending(t.events, data.METERS[int(t.meters[0])]) for t in tunes]


def shares(rows: list[dict]) -> dict:
    keys = ("on_tonic", "cadence", "final_steps")
    return {k: round(sum(r[k] for r in rows) / max(len(rows), 1), 3) for k in keys} | {"tunes": len(rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="+", default=["nottingham"])
    parser.add_argument("--bars", default="8", help="comma-separated: one row per length")
    parser.add_argument("--close-tries", default="8,0", help="comma-separated: 0 is the first draw, unredrawn")
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--meters", default="4/4,6/8")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default="../shared/data/music/nottingham")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    table = {}
    if Path(args.data).is_dir():
        table["data (test split)"] = shares(data_endings(args.data))
    for weights in args.weights:
        for bars in map(int, args.bars.split(",")):
            for tries in map(int, args.close_tries.split(",")):
                rows = []
                for meter in args.meters.split(","):
                    rows += written_endings(weights, bars, args.n, meter, args.seed, tries)
                table[f"{weights} --bars {bars} --close-tries {tries}"] = shares(rows)
    if args.json:
        print(json.dumps(table, indent=2))
        return
    print("| tunes from | on the tonic | cadence | final note (sixteenths) | tunes |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, row in table.items():
        print(f"| {name} | {row['on_tonic']:.3f} | {row['cadence']:.3f} | {row['final_steps']:.2f} | {row['tunes']} |")


if __name__ == "__main__":
    main()
