"""The image plugin's training data: genkit's shared readers (genkit.datasets), 28x28 grey-scale.

The layouts ``--data`` accepts (IDX folders, class sub-folders, .npz) and how each image's real
values are read are described in genkit/datasets.py; they are shared with every image-like plugin.
"""

from genkit.datasets import FASHION_CLASSES, IMAGE_SUFFIXES, SIZE, ImageSet, load, read_idx

__all__ = ["FASHION_CLASSES", "IMAGE_SUFFIXES", "SIZE", "ImageSet", "load", "read_idx"]
