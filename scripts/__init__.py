"""Developer tools run from the repository root with ``python -m scripts.<tool>``; not part of the package."""
