import gc

gc.disable()  # before the imports too (main() keeps it off: one command, one short process)

from tttgen.cli import program  # noqa: E402

program()
