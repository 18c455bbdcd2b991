"""A plugin whose hook name is misspelled (test fixture): check_pending must catch it."""

from genkit import hookimpl


@hookimpl
def genkit_register_generator(register):  # missing the final "s"
    pass
