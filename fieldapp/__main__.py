"""Run the fieldapp command with python -m fieldapp."""

from .cli import main

main()
