import sys

from reglab.cli.main import main

sys.exit(main())
