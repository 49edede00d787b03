"""`neuroladder` and its subcommands: a thin layer over the functions the tests call."""
