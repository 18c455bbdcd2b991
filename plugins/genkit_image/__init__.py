"""genkit built-in image generator (entry module: keep it light)."""
