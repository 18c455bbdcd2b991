"""A test plugin that adds an output kind genkit does not know (.xyz point lists), plus mistakes:
a kind that claims png, a generator written for the old contract, and validators that misbehave."""

import sys

from genkit import ArtifactKind, GeneratorSpec, Option, hookimpl

IMPORTS_OF_THE_IMPLEMENTATION = "genkit_points_impl"


def check_label(text):
    """A label is letters and digits; checked before the generator is imported."""
    if IMPORTS_OF_THE_IMPLEMENTATION in sys.modules:
        raise AssertionError("the validator ran after the implementation was imported")
    if not text.isalnum():
        raise ValueError(f"a label is letters and digits, got {text!r}")


def quits(text):
    sys.exit(3)


def breaks(text):
    return text.no_such_method()


NOT_A_FUNCTION = 42


@hookimpl
def genkit_register_artifact_kinds(register):
    register(
        ArtifactKind(
            "points",
            ("xyz",),
            "genkit_points_impl:XyzWriter",
            options=(Option("decimals", "int", 3, "Digits after the point.", min=0, max=9),),
        )
    )
    register(ArtifactKind("stolen", ("png",), "genkit_points_impl:XyzWriter"))  # png is genkit's: a conflict


@hookimpl
def genkit_register_generators(register):
    register(
        GeneratorSpec(
            name="dots",
            modality="points",
            summary="Random points on a circle.",
            implementation="genkit_points_impl:Dots",
            outputs=("xyz",),
            options=(
                Option("count", "int", 8, "Points per item.", min=1, max=1000),
                Option("label", "str", None, "A name for the points.", validator="genkit_points:check_label"),
                Option("quits", "str", None, "Its validator calls sys.exit.", validator="genkit_points:quits"),
                Option("breaks", "str", None, "Its validator crashes.", validator="genkit_points:breaks"),
                Option(
                    "missing", "str", None, "Its validator does not exist.", validator="genkit_points:no_such_function"
                ),
                Option(
                    "number", "str", None, "Its validator is not callable.", validator="genkit_points:NOT_A_FUNCTION"
                ),
            ),
        )
    )
    register(
        GeneratorSpec(
            name="old-dots",
            modality="points",
            summary="Written for the old contract.",
            implementation="genkit_points_impl:OldDots",
            outputs=("xyz",),
        )
    )
