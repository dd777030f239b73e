import sys

from promptstudio.cli import main

sys.exit(main())
