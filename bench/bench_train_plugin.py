"""Registers the benchmark's training task so `genkit train bench --nproc 2` can run it."""

from genkit import hookimpl


@hookimpl
def genkit_register_generators(register):
    from genkit.spec import GeneratorSpec

    register(
        GeneratorSpec(
            name="bench",
            modality="image",
            summary="training-loop benchmark",
            implementation="train_overhead:BenchGenerator",
            outputs=("png",),
            trainable=True,
        )
    )
