# The two commands of the README, and the docs. Each target is a script in tools/ (a fresh
# Debian machine may have no make: run the script itself).
.PHONY: install quickstart test docs

install:  ## torch (CPU), the package and Fashion-MNIST
	tools/install.sh

quickstart:  ## install, then train the quickstart sweep into runs/quickstart
	tools/quickstart.sh

test:  ## test dependencies, PostgreSQL on loopback, lint, docs build, tests (what CI runs)
	tools/test.sh

docs:  ## serve the docs site on http://127.0.0.1:8000
	mkdocs serve
