import sys

from ai_runner_kit.cli import main

sys.exit(main())
