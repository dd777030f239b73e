"""The Evaluate tab: test cases and their checks, the evaluation flow, the results grid,
summary and chart, and the judge prompt dialog."""
