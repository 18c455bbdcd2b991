"""The meters the melody model knows: one copy, light enough for the entry module to import."""

METERS = ("4/4", "3/4", "6/8", "2/4", "9/8", "2/2", "3/2", "6/4", "5/4", "12/8")
