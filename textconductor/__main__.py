import sys

from textconductor.cli import main

sys.exit(main())
