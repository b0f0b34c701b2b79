# Everything runs from a project-local virtual environment that these targets create.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint docs i18n clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# constraints.txt pins torch to the CPU build; without it pip pulls CUDA wheels.
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Each assignment's examples into demo-out/NAME; torch notebooks need longer for imports.
demo: $(STAMP)
	$(BIN)/nngrade grade assignments/relu examples/relu --out demo-out/relu --timeout 5
	$(BIN)/nngrade grade assignments/backprop examples/backprop --out demo-out/backprop --timeout 5
	$(BIN)/nngrade grade assignments/layers examples/layers --out demo-out/layers --timeout 10
	$(BIN)/nngrade grade assignments/bce examples/bce --out demo-out/bce --timeout 20
	$(BIN)/nngrade grade assignments/torch_mlp examples/torch_mlp --out demo-out/torch_mlp --timeout 20
	$(BIN)/nngrade grade assignments/activations examples/activations --out demo-out/activations --timeout 20
	@echo
	@echo "Written answers (relu): mark them in a browser with"
	@echo "  $(BIN)/nngrade mark demo-out/relu"
	@echo "Ctrl-C there writes the grades again with the marks (docs/marking.md)."

# In parallel on pytest-xdist workers (tests/conftest.py groups those that share a graded
# fixture or a module's batch), then the `timing` tests alone, where second-sized timeouts
# decide the outcome. Both parts always run; either failing fails make test.
TEST_WORKERS ?= auto
test: $(STAMP)
	status=0; \
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup -m "not timing" || status=$$?; \
	$(BIN)/python -m pytest -m timing || status=$$?; \
	exit $$status

# The inner loop: the tests that start no kernel and take no minutes (the `kernel` and `slow`
# markers), in under a minute on the same workers.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup -m "not kernel and not slow"

lint: $(STAMP)
	$(BIN)/ruff check grader reference assignments tests benchmarks
	$(BIN)/ruff format --check grader reference assignments tests benchmarks
	$(BIN)/mypy grader reference
	$(BIN)/lint-imports --no-logo

# The API reference for check files, from grader.checks' docstrings: docs/_build/index.html.
docs: $(STAMP)
	rm -rf docs/_build
	$(BIN)/pdoc grader.checks --output-directory docs/_build

# The message catalogues (docs/authoring.md, "Languages"): the messages marked in grader/ and
# templates/ (babel.cfg) into grader/locale/nngrade.pot, merged into each language's
# nngrade.po. Then translate the new and fuzzy entries there; the .po is read as it is (no .mo),
# and tests/checks/test_i18n.py fails while a marked message has no translation.
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --add-location=file --sort-output --no-wrap \
		--project nngrade --omit-header -o grader/locale/nngrade.pot .
	$(BIN)/pybabel update -i grader/locale/nngrade.pot -d grader/locale -D nngrade \
		--no-wrap --ignore-obsolete

clean:
	rm -rf $(VENV) demo-out docs/_build
