from genkit.cli import main

main()
