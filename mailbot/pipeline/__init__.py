"""The posting pipeline: pure stages that decide on and decorate a list post."""
