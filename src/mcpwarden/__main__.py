import sys

from mcpwarden.cli import main

sys.exit(main())
