import sys

from reglab.cli.main import EXIT_SIGINT, forget_handled_interrupt, main

code = main()
if code == EXIT_SIGINT:
    forget_handled_interrupt()
sys.exit(code)
