# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/*.txt | sha256sum | cut -c1-12)

.PHONY: install run test lint format check-migrations ci clean mutation

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements/base.txt requirements/prod.txt requirements/dev.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# Web server, Celery worker and beat on the embedded defaults; Ctrl-C stops all three.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_catalog
	$(BIN)/python manage.py demo_setup
	$(BIN)/python manage.py send_due_reminders
	@echo "Starting web (http://127.0.0.1:$${WEB_PORT:-8000}/api/docs/), worker and beat; Ctrl-C stops all three."
	DEBUG=$${DEBUG:-true} $(BIN)/honcho -f Procfile.dev start

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/djlint --lint obligations/templates regulations/templates

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-migrations: install
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var

# Mutation testing of the two pure domain modules, regulations/deadlines.py and
# regulations/applicability.py, against their fast tests ([tool.mutmut] in pyproject.toml). It
# starts from a fresh mutants/ because mutmut keeps earlier verdicts: a survivor would never meet
# a new test. The score per module leaves out the equivalent mutants listed in
# tests/regulations/MUTATION.md.
define MUTATION_SUMMARY
import collections, json, pathlib, re
listed = set(re.findall(r"`(regulations\.\S+__mutmut_\d+)`", pathlib.Path("tests/regulations/MUTATION.md").read_text()))
names = {0: "survived", 1: "killed", 3: "killed", 5: "no tests", 33: "no tests", None: "not checked"}
names.update(dict.fromkeys((24, -24, 36, 152, 255), "timeout"))
print("Per module; score = (killed + timed out) / (mutants - equivalent ones listed in MUTATION.md):")
for module in ("deadlines", "applicability"):
    codes = json.loads(pathlib.Path(f"mutants/regulations/{module}.py.meta").read_text())["exit_code_by_key"]
    status = {k: names.get(v, f"exit {v}") for k, v in codes.items()}
    detected = {k for k, s in status.items() if s in ("killed", "timeout")}
    equivalent = {k for k in codes if k in listed} - detected
    counts = collections.Counter(s for k, s in status.items() if k not in equivalent)
    scored = len(codes) - len(equivalent)
    print(f"  {module}.py: {len(codes)} mutants:", ", ".join(f"{n} {s}" for s, n in sorted(counts.items())),
          f"+ {len(equivalent)} equivalent; score {len(detected)}/{scored} = {len(detected) / scored:.1%}")
    stale = sorted(listed & detected)
    if stale:
        print("    listed as equivalent but killed (update MUTATION.md):", ", ".join(stale))
endef
export MUTATION_SUMMARY

mutation: install
	rm -rf mutants
	$(BIN)/mutmut run
	$(BIN)/mutmut results
	@$(BIN)/python -c "$$MUTATION_SUMMARY"
