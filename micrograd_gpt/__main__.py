"""`python -m micrograd_gpt` runs the same command line as `micrograd-gpt`."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
