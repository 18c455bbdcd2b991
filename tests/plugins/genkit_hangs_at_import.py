"""A plugin whose entry module never finishes importing (test fixture)."""

import time

while True:
    time.sleep(1)
