"""genkit built-in music generator (entry module: keep it light)."""
