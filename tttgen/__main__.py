from tttgen.cli import main

main()
