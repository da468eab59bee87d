import gc

gc.disable()  # before the imports too (main() keeps it off: one command, one short process)

from tttgen.cli import main  # noqa: E402

main()
