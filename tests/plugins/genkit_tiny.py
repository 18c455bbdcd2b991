"""A tiny trainable generator used by the tests: linear regression on numbers from a text file.

Loaded with GENKIT_PLUGINS=genkit_tiny (tests/plugins on PYTHONPATH); it exercises the whole
train/resume/DDP/eval path in well under a second per run.
"""

from genkit import hookimpl
from genkit.spec import GeneratorSpec, Option


@hookimpl
def genkit_register_generators(register):
    register(
        GeneratorSpec(
            name="tiny",
            modality="text",
            summary="Linear regression on numbers (test plugin).",
            implementation="genkit_tiny_impl:Tiny",
            outputs=("txt",),
            trainable=True,
            train_options=(Option("hidden", "int", 8, "Hidden width.", min=1, max=64),),
        )
    )
