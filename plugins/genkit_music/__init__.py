"""genkit built-in music generator: a melody LSTM writing folk tunes as MIDI or WAV.

Entry module: declares the generator and imports nothing heavy (no torch, no numpy).
The model lives in model.py, the event encoding and data split in data.py, sampling in
generator.py, audio in synth.py, metrics in metrics.py, training in task.py. See docs/music.md.
"""

from genkit import hookimpl
from genkit.spec import GeneratorSpec, Option
from genkit_music.meters import METERS

# Redraws of a last bar that does not close: 64 bring 16- and 32-bar tunes to 79% and 73% on the
# tonic (8 tries: 60% and 57%); a try runs only the tunes still open (docs/music.md, "How tunes end").
CLOSE_TRIES = 64

__version__ = "0.1.0"

MAX_BARS = 256
# What `genkit music --key <TAB>` offers: every major and minor tonic (--key takes other spellings too).
KEYS = tuple(
    f"{t}{m}" for m in ("", "m") for t in ("C", "C#", "Db", "D", "Eb", "E", "F", "F#", "Gb", "G", "Ab", "A", "Bb", "B")
)


MUSIC_OPTIONS = (
    Option(
        "bars",
        "int",
        8,
        "Whole bars to generate (after the primer when there is one, and after a pickup); it ends on a bar line.",
        min=1,
        max=MAX_BARS,
    ),
    Option("time-signature", "choice", None, "Meter (default: the primer MIDI's, else 4/4).", choices=METERS),
    Option(
        "tempo",
        "float",
        120.0,
        "Quarter notes per minute (20-400; MIDI stores at most 16.7 s a beat).",
        min=20,
        max=400,
    ),
    Option(
        "key",
        "str",
        None,
        "Key, e.g. G, D, Bb, F#m, Am (default: the primer's, else drawn from the training tunes' keys).",
        validator="genkit_music.data:parse_key",
        suggestions=KEYS,
    ),
    Option(
        "temperature",
        "float",
        1.0,
        "Sampling temperature: lower is safer, higher is wilder.",
        min=0,
        min_open=True,
        max=5,
    ),
    Option(
        "close-tries",
        "int",
        CLOSE_TRIES,
        "Redraw a last bar that does not end on the tonic with a note of a beat or more, up to N times "
        "(0: keep the first draw).",
        min=0,
        max=256,
    ),
    Option("program", "int", 0, "General MIDI instrument 0-127 (also picks the WAV timbre).", min=0, max=127),
    Option(
        "primer",
        "str",
        None,
        'Melody to start from, one token per sixteenth: a MIDI pitch, "_" to hold, "-" to rest, '
        'e.g. "60 _ 62 _ 64 - 67 _" (Magenta\'s [60, -2, 62, -1] works too).',
        validator="genkit_music.data:parse_primer",
    ),
    Option("primer-midi", "path", None, "A monophonic MIDI file whose melody the tune continues."),
    Option(
        "chords",
        "bool",
        False,
        "Also write a chord accompaniment (a second MIDI track, heard in the WAV), drawn from the chords "
        "the model learnt; needs chord weights (--weights nottingham-chords).",
    ),
    Option(
        "backing",
        "str",
        None,
        'Chords to play the melody over, one per bar, repeated to the end: "G D Em C" (implies --chords).',
    ),
)


@hookimpl
def genkit_register_generators(register):
    register(
        GeneratorSpec(
            name="music",
            modality="music",
            summary="Monophonic folk melodies from an LSTM (Nottingham tunes), as MIDI or WAV.",
            implementation="genkit_music.generator:MusicGenerator",
            outputs=("mid", "wav"),
            default_weights="weights/music-nottingham.safetensors",
            max_n=10_000,
            options=MUSIC_OPTIONS,
            trainable=True,
            eval_options=(),  # the train options genkit eval reads
            train_options=(
                Option("hidden", "int", 256, "LSTM width of a new model.", min=8, max=2048),
                Option("layers", "int", 2, "LSTM layers of a new model.", min=1, max=4),
            ),
        )
    )
