"""One module per scenario; each has `run(plan) -> dict` measuring Parley and, where it
applies, the baseline in the same run."""
