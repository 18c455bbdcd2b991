"""A test plugin that adds an output kind genkit does not know (.xyz point lists), plus two mistakes."""

from genkit import ArtifactKind, GeneratorSpec, Option, hookimpl


@hookimpl
def genkit_register_artifact_kinds(register):
    register(ArtifactKind("points", ("xyz",), "genkit_points_impl:XyzWriter",
                          options=(Option("decimals", "int", 3, "Digits after the point.", min=0, max=9),)))
    register(ArtifactKind("stolen", ("png",), "genkit_points_impl:XyzWriter"))  # png is genkit's: a conflict


@hookimpl
def genkit_register_generators(register):
    register(GeneratorSpec(name="dots", modality="points", summary="Random points on a circle.",
                           implementation="genkit_points_impl:Dots", outputs=("xyz",),
                           options=(Option("count", "int", 8, "Points per item.", min=1, max=1000),)))
    register(GeneratorSpec(name="old-dots", modality="points", summary="Written for the old contract.",
                           implementation="genkit_points_impl:OldDots", outputs=("xyz",)))
