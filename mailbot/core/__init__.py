"""The bottom floor: time, errors and durations. Imports nothing else of mailbot."""
