"""Lists: their rules, their roster, and the commands members send them."""
