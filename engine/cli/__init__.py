"""The headless `t2ipal` command line: a thin front door over the engine's job functions."""
