"""genkit's own artifact kinds, registered through the hook any plugin uses to add one."""

from genkit.contract import hookimpl
from genkit.spec import ArtifactKind, Option

SCALE = Option("scale", "int", 1, "Nearest-neighbour upscaling factor for viewing.", min=1, max=64)
PIANO_ROLL = Option("piano-roll", "path", None, "Also draw each tune as a piano-roll PNG (a file, folder or pattern).")

KINDS = (
    ArtifactKind(
        "image",
        ("png",),
        "genkit.writers.image:ImageWriter",
        options=(SCALE, Option("grid", "path", None, "Also write all items as one contact-sheet PNG.")),
    ),
    ArtifactKind(
        "frames",
        ("gif", "webp", "mp4"),
        "genkit.writers.frames:FramesWriter",
        options=(SCALE, Option("frames-dir", "path", None, "Also write every frame as a PNG into this folder.")),
    ),
    ArtifactKind("midi", ("mid", "midi"), "genkit.writers.midi:MidiWriter", options=(PIANO_ROLL,)),
    ArtifactKind("audio", ("wav",), "genkit.writers.audio:AudioWriter", options=(PIANO_ROLL,)),
    ArtifactKind("text", ("txt",), "genkit.writers.text:TextWriter", streams=True),
)


@hookimpl
def genkit_register_artifact_kinds(register):
    for kind in KINDS:
        register(kind)
