"""Speed of `genkit music`, as ratios measured in this one run.

Run: python bench/music_speed.py [--runs 5] [--weights W] [--json]

- end to end: median wall time of `genkit music --bars 8 -o tune.mid` over that of
  `python -c "import torch"` (target <= 1.3x)
- throughput: bars per second of the generator at --n 64 (one batch of 64 tunes of 8 bars,
  in-process, after loading), and end to end for `genkit music --bars 8 --n 64`
- audio: seconds to render a tune as WAV (synth.py) over the tune's own duration (< 1 is faster
  than real time), for an 8-bar and a 64-bar tune
- WAV memory: peak RSS of `genkit music --bars 64 --tempo 40 -o x.wav` (~6.5 min of audio) over
  that of a 4-bar WAV (1.3 after the synthesiser was made to work in blocks; 4.1 before)
The machine is shared and noisy: compare the ratios, not the seconds.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall(cmd) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed: {proc.stderr.decode()}")
    return seconds


def median_wall(cmd, runs: int) -> float:
    return statistics.median(wall(cmd) for _ in range(runs))


def peak_rss_mb(cmd) -> float:
    """Peak RSS of ``cmd`` run as the only child of a fresh Python (RUSAGE_CHILDREN counts all children)."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    return float(
        subprocess.run([sys.executable, "-c", code, *map(str, cmd)], check=True, capture_output=True, text=True).stdout
    )


def generator(weights):
    from genkit import device as devices
    from genkit import weights as gk_weights
    from genkit.registry import load_registry
    from genkit_music.generator import MusicGenerator

    spec = load_registry().get("music")
    return MusicGenerator(
        devices.resolve_device(None), Path(weights) if weights else gk_weights.default_weights_path(spec)
    )


def bars_per_second(gen, n=64, bars=8, repeats=3) -> float:
    options = {"bars": bars, "tempo": 120.0, "temperature": 1.0, "program": 0}
    list(gen.generate(n=n, seed=0, options=options, format="mid"))  # warm-up
    start = time.perf_counter()
    for r in range(repeats):
        list(gen.generate(n=n, seed=r + 1, options=options, format="mid"))
    return n * bars * repeats / (time.perf_counter() - start)


def render_ratio(gen, bars: int, repeats=3) -> float:
    from genkit_music.synth import render_midi

    art = next(
        gen.generate(
            n=1, seed=7, options={"bars": bars, "tempo": 120.0, "temperature": 1.0, "program": 0}, format="mid"
        )
    )
    seconds = bars * 2.0  # 4/4 at 120 BPM
    render_midi(art.midi, seconds=seconds)  # warm-up (imports torchaudio)
    start = time.perf_counter()
    for _ in range(repeats):
        render_midi(art.midi, seconds=seconds)
    return (time.perf_counter() - start) / repeats / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--weights", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    extra = ["--weights", args.weights] if args.weights else []
    with tempfile.TemporaryDirectory() as tmp:
        torch_s = median_wall([sys.executable, "-c", "import torch"], args.runs)
        tune = [
            sys.executable,
            "-m",
            "genkit",
            "music",
            "--bars",
            "8",
            "--seed",
            "1",
            "-o",
            str(Path(tmp) / "tune.mid"),
            "--overwrite",
            "--quiet",
            *extra,
        ]
        music_s = median_wall(tune, args.runs)
        many = [
            sys.executable,
            "-m",
            "genkit",
            "music",
            "--bars",
            "8",
            "--n",
            "64",
            "--seed",
            "1",
            "-o",
            str(Path(tmp) / "many") + "/",
            "--overwrite",
            "--quiet",
            *extra,
        ]
        many_s = median_wall(many, max(1, args.runs // 2))
        wav = [sys.executable, "-m", "genkit", "music", "--seed", "1", "--overwrite", "--quiet", *extra]
        wav_short_mb = peak_rss_mb([*wav, "--bars", "4", "-o", Path(tmp) / "short.wav"])
        wav_long_mb = peak_rss_mb([*wav, "--bars", "64", "--tempo", "40", "-o", Path(tmp) / "long.wav"])
    gen = generator(args.weights)
    result = {
        "import_torch_s": round(torch_s, 3),
        "music_8_bars_s": round(music_s, 3),
        "end_to_end_ratio": round(music_s / torch_s, 3),
        "bars_per_s_n64_in_process": round(bars_per_second(gen), 1),
        "bars_per_s_n64_end_to_end": round(64 * 8 / many_s, 1),
        "wav_render_over_duration_8_bars": round(render_ratio(gen, 8), 4),
        "wav_render_over_duration_64_bars": round(render_ratio(gen, 64), 4),
        "wav_peak_rss_64_bars_40bpm_over_4": round(wav_long_mb / wav_short_mb, 2),
        "threads": os.environ.get("OMP_NUM_THREADS", "default"),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:36} {value}")
    print(
        f"\nend to end: genkit music --bars 8 takes {result['end_to_end_ratio']:.2f}x `import torch` (target <= 1.3x)"
    )


if __name__ == "__main__":
    main()
