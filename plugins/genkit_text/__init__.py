"""genkit built-in text generator (entry module: keep it light)."""
