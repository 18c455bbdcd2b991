"""The static commands of genkit: one module each; cli.py only assembles them."""
