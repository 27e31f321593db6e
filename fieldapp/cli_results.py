"""Commands for exam results: import results typed later, export every value, print sheets, follow-up lists."""

import click


def register(main: click.Group) -> None:
    """Add the results commands to the fieldapp command."""
    main.add_command(results_group)


@click.group("results")
def results_group():
    """Exam results: import and export values, result sheets, follow-up lists."""
