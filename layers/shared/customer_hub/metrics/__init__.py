"""Dashboard metrics: hub events, roll-up stages, reads, periods and the dashboard answers."""
