"""The ruler image-like generators are measured with: one evaluation for every plugin that makes pictures.

Inception weights cannot be downloaded where genkit runs, so pictures are measured in the features of
a small CNN trained on the data's own classes (``classifier``): a shipped one (``weights/``), one
given with ``--classifier``, or one trained on the data and cached (``ruler``). ``metrics`` holds the
distances (Frechet, k-NN precision and recall, class balance) and ``measure.picture_metrics`` turns a
batch of generated pictures into the numbers ``genkit eval`` reports, the same for a GAN, a diffusion
model or any plugin's own network, so that no plugin imports another's to be compared with it.

This module imports nothing: the submodules need torch and numpy, and are imported by name.
"""
