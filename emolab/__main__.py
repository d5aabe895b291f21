import sys

from emolab.cli import main

sys.exit(main())
