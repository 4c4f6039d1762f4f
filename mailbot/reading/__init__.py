"""What a message says, read without I/O: its text, a reply's own words and stance, a
bounce report, commands, amounts. Imports only core and config."""
