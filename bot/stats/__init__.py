"""Statistics for staff: counts with small cells hidden, their text, the chart, the CLI."""
